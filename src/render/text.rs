//! Terminal output: the step-by-step trace, `show` tables and the summary line.

use std::fmt::Write as _;

use super::style::{paint, Tone};
use crate::events::{Event, EvictAction, MajorReason, MinorReason};
use crate::session::snapshot::*;
use crate::session::{ChunkResult, Item, Output, Step};
use crate::units::{addr, size};

/// Lays out rows under headers, columns padded to their widest cell; numeric-looking columns
/// are right-aligned.
pub fn table(headers: &[&str], rows: &[Vec<String>]) -> String {
    let n = headers.len();
    let mut width: Vec<usize> = headers.iter().map(|h| h.chars().count()).collect();
    for r in rows {
        for (i, c) in r.iter().enumerate().take(n) {
            width[i] = width[i].max(c.chars().count());
        }
    }
    let right: Vec<bool> = (0..n)
        .map(|i| {
            !rows.is_empty()
                && rows.iter().all(|r| {
                    r.get(i).is_none_or(|c| {
                        c.chars().next().is_some_and(|ch| ch.is_ascii_digit())
                            && !c.starts_with("0x")
                            && !c.contains(' ')
                    })
                })
        })
        .collect();
    let mut out = String::new();
    let line = |cells: &mut dyn Iterator<Item = &str>, out: &mut String| {
        let mut s = String::new();
        for (i, c) in cells.enumerate().take(n) {
            if i > 0 {
                s.push_str("  ");
            }
            let pad = width[i] - c.chars().count();
            if right[i] {
                s.push_str(&" ".repeat(pad));
                s.push_str(c);
            } else {
                s.push_str(c);
                if i + 1 < n {
                    s.push_str(&" ".repeat(pad));
                }
            }
        }
        out.push_str(s.trim_end());
        out.push('\n');
    };
    line(&mut headers.iter().copied(), &mut out);
    for r in rows {
        line(&mut r.iter().map(String::as_str), &mut out);
    }
    out
}

/// One sentence for an event.
pub fn event(e: &Event) -> String {
    match e {
        Event::MinorFault {
            vaddr,
            access,
            reason,
            pfn,
            region,
            ..
        } => {
            let why = match reason {
                MinorReason::ZeroPage => {
                    "first read: mapped the shared zero page (no frame used)".to_string()
                }
                MinorReason::DemandZero => format!("first write: zero-filled frame {pfn:#x}"),
                MinorReason::ZeroPageWrite => {
                    format!("write after a read of the zero page: own frame {pfn:#x} now")
                }
                MinorReason::CopyOnWrite => format!("copy-on-write: copied into frame {pfn:#x}"),
                MinorReason::CopyOnWriteLast => {
                    format!("copy-on-write, but no one else maps frame {pfn:#x} now: made writable in place")
                }
                MinorReason::PageCache => format!("already in the page cache: frame {pfn:#x}"),
            };
            format!(
                "minor fault: {} at {} in {region}; {why}",
                access.name(),
                addr(*vaddr)
            )
        }
        Event::MajorFault {
            vaddr,
            access,
            reason,
            pfn,
            region,
            ..
        } => {
            let why = match reason {
                MajorReason::FileRead => format!("read from the file into frame {pfn:#x}"),
                MajorReason::SwapIn => format!("read back from swap into frame {pfn:#x}"),
            };
            format!(
                "MAJOR fault: {} at {} in {region}; {why}",
                access.name(),
                addr(*vaddr)
            )
        }
        Event::StackGrowth {
            old_start,
            new_start,
            ..
        } => format!(
            "stack grew down by {} to {}",
            size(old_start - new_start),
            addr(*new_start)
        ),
        Event::Segv {
            vaddr,
            access,
            code,
            detail,
            ..
        } => format!(
            "SIGSEGV ({}): {} at {}: {detail}",
            code.name(),
            access.name(),
            addr(*vaddr)
        ),
        Event::Bus {
            vaddr,
            access,
            detail,
            ..
        } => format!(
            "SIGBUS (BUS_ADRERR): {} at {}: {detail}",
            access.name(),
            addr(*vaddr)
        ),
        Event::Brk { old, new, .. } => {
            if new >= old {
                format!(
                    "brk {} -> {} (+{})",
                    addr(*old),
                    addr(*new),
                    size(new - old)
                )
            } else {
                format!(
                    "brk {} -> {} (-{})",
                    addr(*old),
                    addr(*new),
                    size(old - new)
                )
            }
        }
        Event::Mmap {
            start,
            len,
            perms,
            what,
            ..
        } => format!(
            "mmap {} {perms} {what} at {}-{}",
            crate::units::size_len(*len),
            addr(*start),
            addr(start + len)
        ),
        Event::Munmap { start, len, .. } => {
            format!(
                "munmap {}-{} ({})",
                addr(*start),
                addr(start + len),
                crate::units::size_len(*len)
            )
        }
        Event::Mprotect {
            start, len, perms, ..
        } => format!("mprotect {}-{} to {perms}", addr(*start), addr(start + len)),
        Event::MmapMoved {
            name,
            hint,
            start,
            len,
            why,
            ..
        } => format!(
            "mmap {name} {}: not at {} ({why}); placed at {}-{} (the address is a hint)",
            size(*len),
            addr(*hint),
            addr(*start),
            addr(start + len)
        ),
        Event::SyscallFailed {
            call,
            result,
            errno,
            reason,
            ..
        } => format!("{call} = {result} {errno}: {reason}"),
        Event::Alloc {
            call,
            result,
            detail,
            radix,
            ..
        } => {
            // free returns nothing: only what it did is worth a line.
            if call.starts_with("free(") {
                format!("{call}: {detail}")
            } else {
                format!("{call} = {}: {detail}", radix.addr(*result))
            }
        }
        Event::Abort { message, .. } => format!("abort: {message} (SIGABRT)"),
        Event::Oom { vaddr, .. } => format!("out of memory at {}", addr(*vaddr)),
        Event::Exit {
            pid,
            status,
            reason,
        } => {
            format!("process {pid} exited with status {status} ({reason})")
        }
        Event::Switch {
            from,
            to,
            tlb_flushed,
        } => format!(
            "switch from pid {from} to pid {to}{}",
            if *tlb_flushed {
                "; TLB flushed"
            } else {
                "; TLB kept (PCID)"
            }
        ),
        Event::Fork { parent, child } => format!("fork: pid {parent} -> child pid {child}"),
        Event::ForkFailed { parent, limit } => format!(
            "fork: pid {parent} gets -1 (EAGAIN): the machine holds {limit} processes and threads"
        ),
        Event::Translate {
            vaddr,
            vpn,
            paddr,
            why,
            ostep: true,
            ..
        } => match paddr {
            Some(pa) => format!(
                "VA 0x{vaddr:08x} (decimal: {vaddr:>8}) --> {pa:08x} (decimal {pa:>8}) [VPN {vpn}]"
            ),
            None if why.is_empty() => {
                format!("VA 0x{vaddr:08x} (decimal: {vaddr:>8}) -->  Invalid (VPN {vpn} not valid)")
            }
            None => format!("VA 0x{vaddr:08x} (decimal: {vaddr:>8}) -->  Invalid ({why})"),
        },
        Event::Translate {
            vaddr, paddr, why, ..
        } => match paddr {
            Some(pa) => format!("translate {vaddr:#x} = {pa:#x}: {why}"),
            None => format!("translate {vaddr:#x}: invalid: {why}"),
        },
        Event::SegTranslate {
            index,
            vaddr,
            paddr,
            segment,
            ostep: true,
            ..
        } => {
            let head = format!("VA {index:2}: 0x{vaddr:08x} (decimal: {vaddr:4}) --> ");
            match (paddr, segment) {
                (Some(pa), None) => format!("{head}VALID: 0x{pa:08x} (decimal: {pa:4})"),
                (Some(pa), Some(s)) => {
                    format!("{head}VALID in SEG{s}: 0x{pa:08x} (decimal: {pa:4})")
                }
                (None, None) => format!("{head}SEGMENTATION VIOLATION"),
                (None, Some(s)) => format!("{head}SEGMENTATION VIOLATION (SEG{s})"),
            }
        }
        Event::SegTranslate {
            vaddr, paddr, why, ..
        } => match paddr {
            Some(pa) => format!("translate {vaddr:#x} = {pa:#x}: {why}"),
            None => format!("translate {vaddr:#x}: segmentation violation: {why}"),
        },
        Event::WalkTranslate {
            vaddr,
            levels,
            paddr,
            value,
            ostep: true,
            ..
        } => {
            let mut out = format!("Virtual Address 0x{vaddr:04x}:");
            for (i, l) in levels.iter().enumerate() {
                let (name, pad) = if i == 0 { ("pde", "  ") } else { ("pte", "    ") };
                let (valid, pfn) = (l.entry >> 7, l.entry & 0x7f);
                out += &format!(
                    "\n{pad}--> {name} index:0x{:x} [decimal {}] {name} contents:0x{:x} (valid {valid}, pfn 0x{pfn:02x} [decimal {pfn}])",
                    l.index, l.index, l.entry
                );
            }
            out += &match (paddr, value, levels.len()) {
                (Some(pa), Some(v), _) => format!(
                    "\n      --> Translates to Physical Address 0x{pa:03x} --> Value: 0x{v:02x}"
                ),
                (_, _, 0) => format!(
                    "\n      --> Fault (outside the {}-bit address space)",
                    crate::machine::small::VA_BITS
                ),
                (_, _, 1) => "\n      --> Fault (page directory entry not valid)".to_string(),
                _ => "\n      --> Fault (page table entry not valid)".to_string(),
            };
            out
        }
        Event::WalkTranslate {
            vaddr,
            pdbr,
            levels,
            paddr,
            value,
            ..
        } => {
            use crate::machine::small::{BITS, PAGE, VA_BITS};
            let mask = (1u64 << BITS) - 1;
            if levels.is_empty() {
                return format!(
                    "translate {vaddr:#x}: invalid: outside the {VA_BITS}-bit address space"
                );
            }
            let mut out = format!(
                "translate {vaddr:#x}: directory index {}, table index {}, offset {:#x}; the directory is page {pdbr}",
                vaddr >> (2 * BITS),
                (vaddr >> BITS) & mask,
                vaddr & mask
            );
            for (i, l) in levels.iter().enumerate() {
                let (valid, pfn) = (l.entry & 0x80 != 0, l.entry & 0x7f);
                let what = if i == 0 {
                    "directory entry"
                } else {
                    "table entry"
                };
                let meaning = match (valid, i) {
                    (false, 0) => "not valid: no page table, so no page here".to_string(),
                    (false, _) => "not valid: the page is not mapped".to_string(),
                    (true, 0) => format!("valid, the page table is in page {pfn}"),
                    (true, _) => format!("valid, frame {pfn}"),
                };
                out += &format!(
                    "\n  {what} {} (page {}, at {:#x}) is {:#04x}: {meaning}",
                    l.index, l.table, l.addr, l.entry
                );
            }
            if let (Some(pa), Some(v)) = (paddr, value) {
                let frame = pa / PAGE;
                out += &format!(
                    "\n  = {pa:#x} (frame {frame} * {PAGE} + offset {}), which holds {v:#04x}",
                    pa % PAGE
                );
            }
            out
        }
        Event::PolicyAccess {
            page,
            hit,
            left,
            right,
            memory,
            victim,
            hits,
            misses,
            ..
        } => {
            let list: Vec<String> = memory.iter().map(u64::to_string).collect();
            format!(
                "Access: {page}  {} {left} -> {:>12} <- {right} Replaced:{} [Hits:{hits} Misses:{misses}]",
                if *hit { "HIT " } else { "MISS" },
                format!("[{}]", list.join(", ")),
                victim.map_or("-".to_string(), |v| v.to_string()),
            )
        }
        Event::Eviction {
            pfn,
            victim,
            policy,
            action,
            ..
        } => {
            let what = match action {
                EvictAction::Dropped => "clean, dropped (the file still has it)".to_string(),
                EvictAction::WrittenBack => "dirty, written back to its file".to_string(),
                EvictAction::SwappedOut { slot } => format!("dirty, swapped out to slot {slot}"),
                EvictAction::Discarded { slot } => {
                    format!("clean, dropped (swap slot {slot} still holds it)")
                }
            };
            format!("no free frame: {policy} evicts frame {pfn:#x} ({victim}): {what}")
        }
        Event::SwapOut {
            pid,
            vaddr,
            pfn,
            slot,
        } => format!(
            "swap out: page at {} of pid {pid} from frame {pfn:#x} to swap slot {slot}",
            addr(*vaddr)
        ),
        Event::SwapIn {
            vaddr,
            access,
            slot,
            pfn,
            region,
            ..
        } => format!(
            "MAJOR fault: {} at {} in {region}; read back from swap slot {slot} into frame {pfn:#x}",
            access.name(),
            addr(*vaddr)
        ),
    }
}

/// A `show` snapshot as a terminal table.
pub fn snapshot(s: &Snapshot) -> String {
    match s {
        Snapshot::Maps { rows, .. } => {
            let mut out = String::new();
            for r in rows {
                let w = if r.end > 0xffff_ffff { 12 } else { 8 };
                let _ = writeln!(
                    out,
                    "{:0w$x}-{:0w$x} {} {:08x} {}",
                    r.start,
                    r.end,
                    r.perms,
                    r.offset,
                    r.name,
                    w = w
                );
            }
            out.lines()
                .map(|l| l.trim_end().to_string() + "\n")
                .collect()
        }
        Snapshot::Smaps { rows, .. } => {
            let body: Vec<Vec<String>> = rows
                .iter()
                .map(|r| {
                    vec![
                        format!("{:x}-{:x}", r.map.start, r.map.end),
                        r.map.perms.clone(),
                        if r.map.name.is_empty() {
                            "(anonymous)".into()
                        } else {
                            r.map.name.clone()
                        },
                        super::smaps_size(r.size, r.page_size),
                        super::smaps_size(r.rss, r.page_size),
                        super::smaps_size(r.pss, r.page_size),
                        super::smaps_size(r.shared_clean + r.shared_dirty, r.page_size),
                        super::smaps_size(r.private_clean, r.page_size),
                        super::smaps_size(r.private_dirty, r.page_size),
                        super::smaps_size(r.anonymous, r.page_size),
                        super::smaps_size(r.page_size, r.page_size),
                        super::smaps_size(r.page_size, r.page_size),
                    ]
                })
                .collect();
            table(&super::SMAPS_COLUMNS, &body)
        }
        Snapshot::PageTable {
            rows,
            levels,
            linear,
            directory,
            ..
        } => {
            let ostep = linear
                .as_ref()
                .map(|l| ostep_page_table(l))
                .unwrap_or_default();
            if let Some(d) = directory {
                // The tables `translate` walks; the process's own table only when it maps
                // something, which on this machine it seldom does.
                let mut out = super::directory_caption(d);
                out.push('\n');
                let body: Vec<Vec<String>> = super::directory_rows(d)
                    .into_iter()
                    .map(Vec::from)
                    .collect();
                if !body.is_empty() {
                    out.push_str(&table(&super::DIRECTORY_COLUMNS, &body));
                }
                if !rows.is_empty() {
                    out.push_str("the process's own page table:\n");
                    out.push_str(&page_table_rows(rows));
                }
                return out;
            }
            if rows.is_empty() {
                return format!(
                    "page table ({}): no valid entries\n{ostep}",
                    crate::units::count(*levels as u64, "level")
                );
            }
            let mut out = page_table_rows(rows);
            out.push_str(&ostep);
            out
        }
        Snapshot::Walk(w) => {
            let mut out = format!(
                "walk of {}: page {:#x}, offset {:#x}\n",
                addr(w.vaddr),
                w.vpn,
                w.offset
            );
            let body: Vec<Vec<String>> = w
                .levels
                .iter()
                .map(|l| {
                    vec![
                        format!("L{}", l.level + 1),
                        l.index.to_string(),
                        format!("{:#x}", l.entry),
                        l.meaning.clone(),
                    ]
                })
                .collect();
            if !body.is_empty() {
                out.push_str(&table(&["level", "index", "entry", "meaning"], &body));
            }
            out.push_str(&w.outcome);
            out.push('\n');
            out
        }
        Snapshot::Tlb {
            capacity,
            ways,
            enabled,
            rows,
        } => {
            if !enabled {
                return "TLB: off (every access walks the page table)\n".into();
            }
            let assoc = if ways == capacity {
                "fully associative".to_string()
            } else {
                format!("{ways}-way")
            };
            let mut out = format!(
                "TLB: {} of {capacity} entries in use, {assoc}\n",
                rows.len()
            );
            let body: Vec<Vec<String>> = rows
                .iter()
                .map(|r| {
                    vec![
                        r.slot.to_string(),
                        r.asid.to_string(),
                        format!("{:#x}", r.vpn),
                        format!("{:#x}", r.pfn),
                        r.perms.clone(),
                        yes(r.dirty),
                    ]
                })
                .collect();
            if !body.is_empty() {
                out.push_str(&table(
                    &["slot", "asid", "vpn", "pfn", "perms", "dirty"],
                    &body,
                ));
            }
            out
        }
        Snapshot::Frames {
            total, used, rows, ..
        } => {
            let mut out = format!("frames: {used} of {total} in use\n");
            let body: Vec<Vec<String>> = rows
                .iter()
                .map(|r| {
                    vec![
                        format!("{:#x}", r.pfn),
                        r.owner.clone(),
                        r.mapcount.to_string(),
                    ]
                })
                .collect();
            if !body.is_empty() {
                out.push_str(&table(&["pfn", "holds", "mapped by"], &body));
            }
            out
        }
        Snapshot::Heap {
            allocator,
            radix,
            rows,
            free_list,
            ..
        } => {
            let ostep = free_list
                .as_ref()
                .map(|l| ostep_free_list(l))
                .unwrap_or_default();
            if rows.is_empty() {
                return format!("heap ({allocator}): no chunks yet\n{ostep}");
            }
            // The teaching heaps are OSTEP's exercises, their sizes written in decimal (`heap
            // 100 B at 1000`); addresses follow the machine.
            let decimal = allocator != "glibc" || *radix == crate::units::Radix::Decimal;
            let body: Vec<Vec<String>> = rows
                .iter()
                .map(|c| {
                    vec![
                        radix.addr(c.addr),
                        if decimal {
                            c.size.to_string()
                        } else {
                            format!("{:#x}", c.size)
                        },
                        if c.in_use {
                            "in use".into()
                        } else {
                            "free".into()
                        },
                        c.bin.clone(),
                    ]
                })
                .collect();
            format!(
                "heap ({allocator}):\n{}{ostep}",
                table(&["chunk", "size", "state", "bin"], &body)
            )
        }
        Snapshot::Stats(s) => {
            let ratio = if s.tlb_hits + s.tlb_misses > 0 {
                format!(
                    " ({:.1}% of lookups)",
                    100.0 * s.tlb_hits as f64 / (s.tlb_hits + s.tlb_misses) as f64
                )
            } else {
                String::new()
            };
            let mut rows = vec![
                vec!["page faults".into(), s.faults.to_string()],
                vec!["  minor".into(), s.minor.to_string()],
                vec!["  major".into(), s.major.to_string()],
                vec!["segfaults".into(), s.segv.to_string()],
            ];
            // Rare enough that a row of 0 would only be noise.
            if s.sigbus > 0 {
                rows.push(vec!["bus errors".into(), s.sigbus.to_string()]);
            }
            rows.extend([
                vec!["accesses".into(), s.accesses.to_string()],
                vec!["TLB hits".into(), format!("{}{ratio}", s.tlb_hits)],
                vec!["TLB misses".into(), s.tlb_misses.to_string()],
            ]);
            let lookups = s.tlb_hits + s.tlb_misses;
            if lookups > s.accesses {
                // An access that faults is looked up again once the fault is handled.
                rows.push(vec![
                    "TLB lookups".into(),
                    match lookups - s.accesses {
                        1 => format!("{lookups} (1 access looked up again after its fault)"),
                        n => format!("{lookups} ({n} accesses looked up again after their fault)"),
                    },
                ]);
            }
            rows.extend([
                vec!["page walks".into(), s.walks.to_string()],
                vec!["walk memory refs".into(), s.walk_refs.to_string()],
                vec!["references".into(), s.references.to_string()],
                vec![
                    "page hit ratio".into(),
                    if s.references > 0 {
                        format!(
                            "{:.1}% (references that did not fault)",
                            100.0 * s.hit_ratio
                        )
                    } else {
                        "- (no references)".into()
                    },
                ],
                vec!["evictions".into(), s.evictions.to_string()],
                vec![
                    "swap ins / outs".into(),
                    format!("{} / {}", s.swap_ins, s.swap_outs),
                ],
                vec!["writebacks".into(), s.writebacks.to_string()],
                vec!["stack growths".into(), s.stack_growths.to_string()],
                vec![
                    "frames in use".into(),
                    format!("{} of {}", s.frames_used, s.frames_total),
                ],
            ]);
            let mut out = table(&["statistic", "value"], &rows);
            if s.per_process.len() > 1 {
                let body: Vec<Vec<String>> = s
                    .per_process
                    .iter()
                    .map(|p| {
                        vec![
                            p.pid.to_string(),
                            p.name.clone(),
                            p.minor.to_string(),
                            p.major.to_string(),
                            p.segv.to_string(),
                            size(p.rss),
                            size(p.vsz),
                            p.state.clone(),
                        ]
                    })
                    .collect();
                out.push_str(&table(
                    &[
                        "pid", "process", "minor", "major", "segv", "rss", "vsz", "state",
                    ],
                    &body,
                ));
            }
            out
        }
        Snapshot::Memory {
            addr: a,
            bytes,
            omitted,
        } => {
            let mut out = String::new();
            for (i, chunk) in bytes.chunks(16).enumerate() {
                let _ = write!(out, "{:#014x} ", a + 16 * i as u64);
                for b in chunk {
                    match b {
                        Some(b) => {
                            let _ = write!(out, " {b:02x}");
                        }
                        None => out.push_str(" --"),
                    }
                }
                out.push_str(&"   ".repeat(16 - chunk.len()));
                out.push_str("  |");
                for b in chunk {
                    out.push(match b {
                        Some(b) if b.is_ascii_graphic() || *b == b' ' => *b as char,
                        Some(_) => '.',
                        None => ' ',
                    });
                }
                out.push_str("|\n");
            }
            if bytes.iter().any(Option::is_none) {
                out.push_str("(-- = page not resident)\n");
            }
            if *omitted > 0 {
                let _ = writeln!(
                    out,
                    "({} more bytes not shown: one dump shows at most {}; show the rest from {})",
                    omitted,
                    bytes.len(),
                    crate::units::addr(a.wrapping_add(bytes.len() as u64))
                );
            }
            out
        }
        Snapshot::Swap { slots, used } => {
            if *slots == 0 {
                "swap: none (anonymous pages cannot be evicted)\n".into()
            } else {
                format!("swap: {used} of {slots} slots in use\n")
            }
        }
        Snapshot::Machine { rows } => {
            let width = rows.iter().map(|r| r.setting.len()).max().unwrap_or(0);
            let mut out = String::new();
            for r in rows {
                let _ = writeln!(out, "{:width$}  {}", r.setting, r.value);
            }
            out
        }
        Snapshot::Sweep {
            params,
            columns,
            rows,
        } => {
            let mut headers: Vec<&str> = params.iter().map(String::as_str).collect();
            headers.extend(columns.iter().map(String::as_str));
            let notes = rows.iter().any(|r| !r.note.is_empty());
            if notes {
                headers.push("note");
            }
            let body: Vec<Vec<String>> = rows
                .iter()
                .map(|r| {
                    let mut v = r.params.clone();
                    v.extend(r.values.iter().cloned());
                    if notes {
                        v.push(r.note.clone());
                    }
                    v
                })
                .collect();
            table(&headers, &body)
        }
    }
}

fn yes(b: bool) -> String {
    if b { "yes" } else { "no" }.into()
}

/// What one step printed, without the trace (for `--quiet` and the REPL's plain output).
pub fn outputs(step: &Step, out: &mut String) {
    for o in step.outputs() {
        match o {
            Output::Print { text } => {
                out.push_str(text);
                out.push('\n');
            }
            Output::Show { snapshot: s } => out.push_str(&snapshot(s)),
            Output::Expect { .. } => {}
        }
    }
}

/// How a step's trace is laid out: in a file's trace every row has a line-number gutter; in
/// the REPL a one-statement input shows its events indented and its prints bare.
#[derive(Debug, Clone, Copy)]
pub struct Layout {
    /// Width of the line-number column; `None` for the REPL's bare layout.
    pub gutter: Option<usize>,
    /// ANSI colour for faults, signals and verdicts (a terminal only).
    pub color: bool,
}

/// The colour of an item, if any.
fn tone(item: &Item) -> Option<Tone> {
    match item {
        Item::Event(Event::MinorFault { .. }) => Some(Tone::Minor),
        Item::Event(Event::MajorFault { .. } | Event::SwapIn { .. }) => Some(Tone::Major),
        Item::Event(
            Event::Segv { .. }
            | Event::Bus { .. }
            | Event::Abort { .. }
            | Event::Oom { .. }
            | Event::Exit { .. },
        ) => Some(Tone::Signal),
        Item::Output(Output::Expect { passed: true, .. }) => Some(Tone::Passed),
        Item::Output(Output::Expect { passed: false, .. }) => Some(Tone::Failed),
        _ => None,
    }
}

/// The rows of one item: an event's sentence, a print's lines, a table, a verdict.
fn item_rows(item: &Item, layout: Layout) -> Vec<String> {
    let bare = layout.gutter.is_none();
    let color = |s: String| match tone(item) {
        Some(t) => paint(layout.color, t, &s),
        None => s,
    };
    match item {
        // An event of several lines (a multi-level walk) keeps each under the gutter.
        Item::Event(e) => event(e)
            .lines()
            .map(|l| format!("  {}", color(l.to_string())))
            .collect(),
        Item::Output(Output::Print { text }) => text
            .lines()
            .map(|l| {
                if bare {
                    l.to_string()
                } else {
                    format!("> {l}")
                }
            })
            .collect(),
        Item::Output(Output::Show { snapshot: s }) => {
            snapshot(s).lines().map(String::from).collect()
        }
        Item::Output(Output::Expect { passed, .. }) => vec![format!(
            "  {}",
            color(if *passed {
                "expectation holds".to_string()
            } else {
                "EXPECTATION FAILED".to_string()
            })
        )],
    }
}

/// A step's happenings, each under the line that caused it: a row naming a line is written
/// whenever the line changes, and a run that repeated says how often (`(× 12)`) once.
pub fn step_body(step: &Step, layout: Layout, out: &mut String) {
    let row = |out: &mut String, text: &str| match layout.gutter {
        Some(w) => {
            let _ = writeln!(out, "{:w$} | {text}", "");
        }
        None => {
            let _ = writeln!(out, "{text}");
        }
    };
    let header = |out: &mut String, line: usize, source: &str| {
        let w = layout.gutter.unwrap_or(3);
        let num = paint(layout.color, Tone::Line, &format!("{line:>w$} |"));
        let _ = writeln!(out, "{num} {source}");
    };
    let only_output = |part: &crate::session::Part| {
        part.items
            .iter()
            .all(|i| matches!(i, Item::Output(Output::Print { .. } | Output::Show { .. })))
    };
    let mut shown = Some(step.line);
    for run in &step.runs {
        if layout.gutter.is_none() && run.parts.iter().all(only_output) {
            // The REPL shows what the scenario prints as it is: every time, unmarked.
            for _ in 0..run.times {
                for item in run.parts.iter().flat_map(|p| &p.items) {
                    for r in item_rows(item, layout) {
                        row(out, &r);
                    }
                }
            }
            continue;
        }
        let folded = run.times > 1;
        let count = format!("  (× {})", run.times);
        let single = run.parts.len() == 1 && run.parts[0].items.len() == 1;
        for (pi, part) in run.parts.iter().enumerate() {
            // A repeated run of several rows starts under its line, where its count goes. The
            // REPL's bare layout names lines only for what the machine did, not for output.
            let named = (shown != Some(part.line) || (folded && pi == 0 && !single))
                && !(layout.gutter.is_none() && only_output(part));
            if named {
                let source = if folded {
                    format!("{}{count}", part.source)
                } else {
                    part.source.clone()
                };
                header(out, part.line, &source);
                shown = Some(part.line);
            }
            for item in &part.items {
                for (k, r) in item_rows(item, layout).iter().enumerate() {
                    if folded && single && !named && k == 0 {
                        row(out, &format!("{r}{count}"));
                    } else {
                        row(out, r);
                    }
                }
            }
        }
        if folded {
            shown = None;
        }
    }
    if step.dropped > 0 {
        row(out, &format!("  ... and {} more events", step.dropped));
    }
}

/// The full trace: each step's line, then what happened, in order, under the lines that
/// caused it.
pub fn trace(r: &ChunkResult) -> String {
    trace_in(r, false)
}

/// [`trace`], coloured for a terminal when `color` is set.
pub fn trace_in(r: &ChunkResult, color: bool) -> String {
    let mut out = String::new();
    let width = r
        .steps
        .iter()
        .flat_map(|s| {
            std::iter::once(s.line)
                .chain(s.runs.iter().flat_map(|r| r.parts.iter().map(|p| p.line)))
        })
        .max()
        .unwrap_or(1)
        .to_string()
        .len()
        .max(3);
    let layout = Layout {
        gutter: Some(width),
        color,
    };
    for step in &r.steps {
        let num = paint(color, Tone::Line, &format!("{:>width$} |", step.line));
        let _ = writeln!(out, "{num} {}", step.source);
        step_body(step, layout, &mut out);
    }
    out
}

/// The closing line of a run.
pub fn summary(r: &ChunkResult, stats: &StatsSnap) -> String {
    summary_in(r, stats, false)
}

/// [`summary`], its failures in colour for a terminal when `color` is set.
pub fn summary_in(r: &ChunkResult, stats: &StatsSnap, color: bool) -> String {
    let failed = format!("{} failed", r.expectations_failed);
    let mut parts = vec![
        format!(
            "{} passed, {}",
            r.expectations_passed,
            if r.expectations_failed > 0 {
                paint(color, Tone::Failed, &failed)
            } else {
                failed
            }
        ),
        format!(
            "{} ({} minor, {} major)",
            crate::units::count(stats.faults, "page fault"),
            stats.minor,
            stats.major
        ),
        crate::units::count(stats.segv, "segfault"),
    ];
    if stats.sigbus > 0 {
        parts.push(crate::units::count(stats.sigbus, "bus error"));
    }
    parts.push(format!(
        "TLB {} hits, {} misses",
        stats.tlb_hits, stats.tlb_misses
    ));
    if r.unexpected_deaths > 0 {
        let died = match r.unexpected_deaths {
            1 => "1 process died unexpectedly".to_string(),
            n => format!("{n} processes died unexpectedly"),
        };
        parts.push(paint(color, Tone::Failed, &died));
    }
    // The counts above are of what ran: say that the rest of the file did not.
    if r.stopped {
        parts.push(match r.steps.last() {
            Some(s) => format!("stopped at line {} by an error", s.line),
            None => "stopped by an error".to_string(),
        });
    }
    format!("{}: {}\n", r.name, parts.join("; "))
}

/// A free list as `malloc.py` dumps it: `Free List [ Size 2 ]: [ addr:1000 sz:10 ][ ... ]`.
pub fn ostep_free_list(list: &[(u64, u64)]) -> String {
    let mut s = format!("Free List [ Size {} ]: ", list.len());
    for (a, n) in list {
        s.push_str(&format!("[ addr:{a} sz:{n} ]"));
    }
    s.push('\n');
    s
}

/// The valid entries of a process's page table, one row each.
fn page_table_rows(rows: &[PteRow]) -> String {
    let body: Vec<Vec<String>> = rows
        .iter()
        .map(|r| {
            vec![
                format!("{:#x}", r.vpn),
                r.pfn.map_or("-".into(), |p| format!("{p:#x}")),
                yes(r.present),
                yes(r.dirty),
                yes(r.accessed),
                r.perms.clone(),
                r.note.clone(),
            ]
        })
        .collect();
    table(
        &[
            "vpn", "pfn", "present", "dirty", "accessed", "perms", "note",
        ],
        &body,
    )
}

/// A linear page table as `paging-linear-translate.py` prints it: the valid bit on top of each
/// 32-bit entry, the frame number below it, entry 0 first.
pub fn ostep_page_table(entries: &[Option<u64>]) -> String {
    let mut s = String::from("Page Table (from entry 0 down to the max size)\n");
    for e in entries {
        let word = e.map_or(0, |pfn| 0x8000_0000 | pfn);
        s.push_str(&format!("  0x{word:08x}\n"));
    }
    s
}
