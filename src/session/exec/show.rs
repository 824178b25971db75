//! `show`: building the snapshot each target hands to the renderers.

use super::*;

impl Exec<'_> {
    pub(super) fn show(&mut self, what: &ShowWhat, span: Span) -> R<Snapshot> {
        let p = self.main_proc(span)?;
        let w = &*self.world;
        let pr = &w.os.procs[p];
        let shift = w.mmu.page_shift();
        let ps = w.mmu.page_size();
        Ok(match what {
            ShowWhat::Maps => {
                let table = w.mmu.page_table(pr.asid);
                Snapshot::Maps {
                    pid: pr.pid,
                    page_size: ps,
                    rows: pr.vmas.iter().map(|v| map_row(v, &table, shift)).collect(),
                }
            }
            ShowWhat::Smaps => {
                let table = w.mmu.page_table(pr.asid);
                let rows =
                    w.os.smaps(&w.mmu, p)
                        .into_iter()
                        .map(|(v, u)| SmapsRow {
                            map: map_row(v, &table, shift),
                            size: u.size,
                            rss: u.rss,
                            pss: u.pss,
                            shared_clean: u.shared_clean,
                            shared_dirty: u.shared_dirty,
                            private_clean: u.private_clean,
                            private_dirty: u.private_dirty,
                            anonymous: u.anonymous,
                            page_size: ps,
                        })
                        .collect();
                Snapshot::Smaps { pid: pr.pid, rows }
            }
            ShowWhat::PageTable => Snapshot::PageTable {
                pid: pr.pid,
                levels: w.mmu.levels(),
                rows: w
                    .mmu
                    .page_table(pr.asid)
                    .into_iter()
                    .map(|(vpn, e)| pte_row(vpn, e))
                    .collect(),
                directory: w.config().machine.pdbr.map(|pdbr| DirectorySnap {
                    pdbr,
                    tables: w.mmu.small_tables(pdbr),
                }),
                linear: {
                    let c = &w.config().machine;
                    let vpn_bits = c.vpn_bits();
                    // With `pdbr` set the table `translate` walks is the directory above.
                    (w.config().conventions == crate::config::Conventions::Ostep
                        && c.pdbr.is_none()
                        && c.levels == 1
                        && vpn_bits <= 12)
                        .then(|| {
                            (0..1u64 << vpn_bits)
                                .map(|v| {
                                    let e = w.mmu.pte(pr.asid, v);
                                    (e & pte::PRESENT != 0 && e & pte::ZERO == 0)
                                        .then(|| pte::pfn(e))
                                })
                                .collect()
                        })
                },
            },
            ShowWhat::Walk(addr) => {
                let a = self.eval(addr)?.bits;
                let w = &*self.world;
                if let Some(pdbr) = w.config().machine.pdbr {
                    return Ok(Snapshot::Walk(small_walk(w, pdbr, a)));
                }
                let pr = &w.os.procs[p];
                let steps = w.mmu.walk(pr.asid, a);
                let level_bits = w.config().machine.level_bits();
                let n = w.mmu.levels();
                let mut levels = Vec::new();
                let mut paddr = None;
                for st in &steps {
                    let last = st.level + 1 == n;
                    let meaning = if st.entry == 0 {
                        "empty: nothing mapped below".to_string()
                    } else if !last {
                        format!("points to table {}", st.entry - 1)
                    } else if st.entry & pte::PRESENT != 0 {
                        let pfn = pte::pfn(st.entry);
                        paddr = Some((pfn << shift) | (a & (ps - 1)));
                        format!(
                            "frame {pfn:#x} {}{}",
                            perm_str(st.entry),
                            note(st.entry)
                                .map(|n| format!(" ({n})"))
                                .unwrap_or_default()
                        )
                    } else {
                        format!(
                            "not present{}",
                            note(st.entry)
                                .map(|n| format!(" ({n})"))
                                .unwrap_or_default()
                        )
                    };
                    levels.push(WalkLevel {
                        level: st.level,
                        table: st.table,
                        index: st.index,
                        entry: st.entry,
                        meaning,
                    });
                }
                let outcome = match paddr {
                    Some(pa) => format!(
                        "{} translates to physical {}",
                        units::addr(a),
                        units::addr(pa)
                    ),
                    None if a >= w.os.user_limit() => {
                        format!("{} is outside user space", units::addr(a))
                    }
                    None => match pr.vmas.find(a) {
                        Some(v) => format!(
                            "{} is valid ({}) but not present: the first access will fault it in",
                            units::addr(a),
                            v.describe()
                        ),
                        None => w.os.describe_unmapped(p, a),
                    },
                };
                Snapshot::Walk(WalkSnap {
                    vaddr: a,
                    level_bits,
                    vpn: a >> shift,
                    offset: a & (ps - 1),
                    page_shift: shift,
                    levels,
                    paddr,
                    mapped: a < w.os.user_limit() && pr.vmas.find(a).is_some(),
                    outcome,
                    translate_only: false,
                })
            }
            ShowWhat::Tlb => {
                let t = w.mmu.tlb();
                Snapshot::Tlb {
                    capacity: t.capacity(),
                    ways: t.ways(),
                    enabled: t.enabled,
                    rows: t
                        .entries()
                        .map(|(slot, e)| TlbRow {
                            slot,
                            asid: e.asid,
                            vpn: e.vpn,
                            pfn: pte::pfn(e.pte),
                            perms: perm_str(e.pte),
                            dirty: e.pte & pte::DIRTY != 0,
                        })
                        .collect(),
                }
            }
            // The pages the small machine's tables use, unless processes hold frames of the
            // machine they run on: then those, as on any machine.
            ShowWhat::Frames if w.config().machine.pdbr.is_some() && w.mmu.frames_used() == 0 => {
                small_frames(w, w.config().machine.pdbr.unwrap_or(0))
            }
            ShowWhat::Frames => Snapshot::Frames {
                total: w.mmu.frames_total(),
                used: w.mmu.frames_used(),
                rows: w
                    .mmu
                    .frames()
                    .iter()
                    .enumerate()
                    .filter(|(_, f)| f.used != FrameUse::Free)
                    .map(|(i, f)| FrameRow {
                        pfn: i as u64,
                        owner: match f.used {
                            FrameUse::Free => "free".into(),
                            FrameUse::Anon { asid, vpn } => {
                                let who =
                                    w.os.procs
                                        .iter()
                                        .find(|p| p.asid == asid)
                                        .map_or("?".to_string(), |p| p.name.clone());
                                format!("{who} page {vpn:#x} (anonymous)")
                            }
                            FrameUse::File { file, page } => format!(
                                "{} page {page} (page cache)",
                                w.os.files[file as usize].name
                            ),
                            FrameUse::Written { asid, vpn } => {
                                let who =
                                    w.os.procs
                                        .iter()
                                        .find(|p| p.asid == asid)
                                        .map_or("?".to_string(), |p| p.name.clone());
                                format!("{who} page {vpn:#x} (entry written by hand)")
                            }
                        },
                        mapcount: f.mapcount,
                        ..frame_place(w, f.used)
                    })
                    .collect(),
                policy: w.config().machine.replace.name().into(),
                next_victim: {
                    let scope = (w.config().machine.scope == crate::machine::Scope::Local)
                        .then_some(pr.asid);
                    w.mmu.next_victim(scope)
                },
            },
            ShowWhat::Heap => Snapshot::Heap {
                pid: pr.pid,
                allocator: w.config().heap.allocator.name().into(),
                radix: w.config().radix(),
                rows: w.heaps[p].chunks(),
                free_list: (w.config().conventions == crate::config::Conventions::Ostep)
                    .then(|| w.heaps[p].free_list())
                    .flatten(),
            },
            ShowWhat::Swap => Snapshot::Swap {
                slots: w.config().machine.swap_slots(),
                used: w.mmu.swap().used(),
            },
            ShowWhat::Stats => Snapshot::Stats(self.world.stats()),
            ShowWhat::Machine => Snapshot::Machine {
                rows: crate::session::snapshot::machine_rows(self.world.config()),
            },
            ShowWhat::Memory(addr, len) => {
                let a = self.eval(addr)?.bits;
                let asked = self.eval(len)?.bits;
                let n = asked.min(SHOW_MEMORY_MAX);
                let w = &*self.world;
                let asid = w.os.procs[p].asid;
                let bytes = (0..n)
                    .map(|i| {
                        let va = a.wrapping_add(i);
                        let e = w.mmu.pte(asid, va >> shift);
                        (e & pte::PRESENT != 0).then(|| {
                            let mut b = [0u8];
                            w.mmu
                                .read_phys((pte::pfn(e) << shift) | (va & (ps - 1)), &mut b);
                            b[0]
                        })
                    })
                    .collect();
                Snapshot::Memory {
                    addr: a,
                    bytes,
                    omitted: asked - n,
                }
            }
        })
    }
}

/// The most bytes one `show memory` dumps; the rest of a longer request is counted, not shown.
pub(super) const SHOW_MEMORY_MAX: u64 = 4096;

/// A region's kind, for pictures: what it is for, in a few words a legend can show.
pub(super) fn region_kind(v: &crate::os::Vma) -> &'static str {
    match v.role {
        Role::Elf | Role::Text => "text",
        Role::Rodata | Role::Relro | Role::Data | Role::Bss => "data",
        Role::Heap => "heap",
        Role::Stack | Role::ThreadStack => "stack",
        Role::Guard => "guard",
        Role::Lib => "lib",
        Role::Special => "kernel",
        Role::Mmap => "mmap",
    }
}

/// `table`: the process's valid leaf entries by VPN, in VPN order.
pub(super) fn map_row(v: &crate::os::Vma, table: &[(u64, u64)], shift: u32) -> MapRow {
    let offset = match v.backing {
        crate::os::Backing::File { offset, .. } => offset,
        crate::os::Backing::Anon => 0,
    };
    let (lo, hi) = (v.start >> shift, v.end >> shift);
    let first = table.partition_point(|&(vpn, _)| vpn < lo);
    let mut resident: Vec<[u64; 2]> = Vec::new();
    let mut resident_pages = 0;
    for &(vpn, e) in table[first..].iter().take_while(|&&(vpn, _)| vpn < hi) {
        if e & pte::PRESENT == 0 || e & pte::ZERO != 0 {
            continue;
        }
        resident_pages += 1;
        let (s, t) = (vpn << shift, (vpn + 1) << shift);
        match resident.last_mut() {
            Some(r) if r[1] == s => r[1] = t,
            _ => resident.push([s, t]),
        }
    }
    MapRow {
        start: v.start,
        end: v.end,
        perms: format!("{}{}", v.perms.rwx(), if v.shared { 's' } else { 'p' }),
        offset,
        name: v.name.to_string(),
        kind: region_kind(v).into(),
        resident_pages,
        resident,
    }
}

pub(super) fn perm_str(e: u64) -> String {
    format!(
        "{}{}{}",
        if e & pte::READ != 0 { 'r' } else { '-' },
        if e & pte::WRITE != 0 { 'w' } else { '-' },
        if e & pte::EXEC != 0 { 'x' } else { '-' }
    )
}

pub(super) fn note(e: u64) -> Option<&'static str> {
    if e & pte::ZERO != 0 {
        Some("zero page")
    } else if e & pte::COW != 0 {
        Some("copy-on-write")
    } else if e & pte::SWAPPED != 0 {
        Some("swapped out")
    } else if e & pte::FILE != 0 {
        Some("page cache")
    } else {
        None
    }
}

pub(super) fn pte_row(vpn: u64, e: u64) -> PteRow {
    let present = e & pte::PRESENT != 0;
    PteRow {
        vpn,
        pfn: present.then(|| pte::pfn(e)),
        present,
        dirty: e & pte::DIRTY != 0,
        accessed: e & pte::ACCESSED != 0,
        perms: perm_str(e),
        note: note(e).unwrap_or("").to_string(),
    }
}

/// Whose page a frame holds, for `show frames`: the process, the kind of region and the
/// address of the page (a page-cache page: the first process, in pid order, that maps it).
pub(super) fn frame_place(w: &World, used: FrameUse) -> FrameRow {
    let shift = w.mmu.page_shift();
    let mut row = FrameRow {
        pfn: 0,
        owner: String::new(),
        mapcount: 0,
        pid: None,
        region: String::new(),
        vaddr: None,
        file: None,
        page: 0,
    };
    match used {
        FrameUse::Free => {}
        FrameUse::Anon { asid, vpn } | FrameUse::Written { asid, vpn } => {
            row.page = vpn;
            if let Some(p) = w.os.procs.iter().find(|p| p.asid == asid) {
                let va = vpn << shift;
                row.pid = Some(p.pid);
                row.vaddr = Some(va);
                row.region = p.vmas.find(va).map_or("mmap", region_kind).into();
            }
        }
        FrameUse::File { file, page } => {
            row.region = "file".into();
            row.page = page;
            row.file = Some(w.os.files[file as usize].name.clone());
            let ps = w.mmu.page_size();
            let at = page * ps;
            for p in &w.os.procs {
                let hit = p.vmas.iter().find_map(|v| match v.backing {
                    crate::os::Backing::File { file: f, offset }
                        if f == file && at >= offset && at - offset < v.len() =>
                    {
                        Some((v, v.start + (at - offset)))
                    }
                    _ => None,
                });
                if let Some((v, va)) = hit {
                    row.pid = Some(p.pid);
                    row.vaddr = Some(va);
                    row.region = region_kind(v).into();
                    break;
                }
            }
        }
    }
    row
}

/// `show walk` on OSTEP's small two-level machine: the walk `translate` makes, from the page
/// directory in page `pdbr` through the tables in physical memory.
fn small_walk(w: &World, pdbr: u64, a: u64) -> WalkSnap {
    use crate::machine::small::{BITS, PAGE, VALID, VA_BITS};
    let walk = w.mmu.small_walk(pdbr, a);
    let levels = walk
        .levels
        .iter()
        .enumerate()
        .map(|(level, e)| {
            let page = e.entry & !VALID;
            WalkLevel {
                level,
                table: e.table as u32,
                index: e.index as usize,
                entry: u64::from(e.entry),
                meaning: match (level, e.entry & VALID != 0) {
                    (0, true) => format!("valid: the page table is in page {page}"),
                    (0, false) => "not valid: no page table, so no page here".into(),
                    (_, true) => format!("valid: page {page}"),
                    (_, false) => "not valid: the page is not mapped".into(),
                },
            }
        })
        .collect();
    let outcome = match (walk.paddr, walk.value) {
        (Some(pa), Some(v)) => format!(
            "{} translates to physical {}, which holds {v:#04x}",
            units::addr(a),
            units::addr(pa)
        ),
        _ if a >> VA_BITS != 0 => format!(
            "{} is outside the {VA_BITS}-bit address space",
            units::addr(a)
        ),
        _ if walk.levels.len() == 1 => format!(
            "{} faults: the page directory entry is not valid",
            units::addr(a)
        ),
        _ => format!(
            "{} faults: the page table entry is not valid",
            units::addr(a)
        ),
    };
    WalkSnap {
        vaddr: a,
        level_bits: vec![BITS, BITS],
        vpn: a >> BITS,
        offset: a & (PAGE - 1),
        page_shift: BITS,
        levels,
        paddr: walk.paddr,
        // The tables are the only mapping there is.
        mapped: walk.paddr.is_some(),
        outcome,
        translate_only: true,
    }
}

/// `show frames` on OSTEP's small two-level machine: the 32-byte pages of physical memory that
/// the tables in page `pdbr` use, as the directory, as page tables, or as mapped pages. A page
/// named twice (a dump may do that) lists every use.
fn small_frames(w: &World, pdbr: u64) -> Snapshot {
    use crate::machine::small::{BITS, PAGE, PAGES, VALID};
    let total = (w.config().machine.memory / PAGE).min(PAGES);
    // Page → what it holds, and (from its first use) the page number the picture shows (the
    // virtual page for a mapped page) and its kind.
    let mut uses: std::collections::BTreeMap<u64, (Vec<String>, (u64, &str))> = Default::default();
    let mut add = |page: u64, what: String, shown| {
        let e = uses.entry(page).or_insert((Vec::new(), shown));
        e.0.push(what);
    };
    add(pdbr, "the page directory (pdbr)".into(), (pdbr, "table"));
    for t in w.mmu.small_tables(pdbr) {
        let base = t.index << (2 * BITS);
        add(
            t.page,
            format!(
                "the page table of directory entry {} ({:#06x}-{:#06x})",
                t.index,
                base,
                base + (1 << (2 * BITS)) - 1
            ),
            (t.page, "table"),
        );
        for (i, e) in t.entries {
            let va = base | (i << BITS);
            add(
                u64::from(e & !VALID),
                format!("virtual {:#06x}-{:#06x}", va, va + PAGE - 1),
                (va >> BITS, "page"),
            );
        }
    }
    // A page past the end of physical memory holds nothing a walk could read.
    let rows: Vec<FrameRow> = uses
        .into_iter()
        .filter(|&(pfn, _)| pfn < total)
        .map(|(pfn, (what, (page, kind)))| FrameRow {
            pfn,
            // Entries that name the page: the directory is named by the pdbr alone.
            mapcount: what.len() as u32 - u32::from(pfn == pdbr),
            owner: what.join("; "),
            pid: None,
            region: kind.into(),
            vaddr: None,
            file: None,
            page,
        })
        .collect();
    Snapshot::Frames {
        total,
        used: rows.len() as u64,
        rows,
        policy: "none".into(),
        next_victim: None,
    }
}
