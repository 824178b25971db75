use super::*;

fn ok(src: &str) -> Program {
    match parse(src) {
        Ok(p) => p,
        Err(e) => panic!("{src:?} failed to parse: {e:#?}"),
    }
}

#[test]
fn smoke() {
    let p = ok("let x = 1 + 2 * 3\nprint x");
    assert_eq!(p.stmts.len(), 2);
}
