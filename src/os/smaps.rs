//! `/proc/PID/smaps` accounting: what each mapping of a process holds in memory, as the kernel
//! counts it (resident, proportional, shared or private, clean or dirty, anonymous).

use super::{Os, Vma};
use crate::machine::pagetable::pte;
use crate::machine::Mmu;

/// One mapping's memory, in bytes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Usage {
    pub size: u64,
    pub rss: u64,
    /// Each resident page divided among the processes that map its frame.
    pub pss: u64,
    pub shared_clean: u64,
    pub shared_dirty: u64,
    pub private_clean: u64,
    pub private_dirty: u64,
    pub anonymous: u64,
}

impl Os {
    /// Process `p`'s mappings with their memory, in address order.
    pub fn smaps<'a>(&'a self, mmu: &Mmu, p: usize) -> Vec<(&'a Vma, Usage)> {
        let pr = &self.procs[p];
        let table = mmu.page_table(pr.asid);
        pr.vmas.iter().map(|v| (v, usage(v, &table, mmu))).collect()
    }
}

/// `table`: the process's valid leaf entries by VPN. A page on the zero page holds no memory of
/// its own and is not resident, as in Linux.
fn usage(v: &Vma, table: &[(u64, u64)], mmu: &Mmu) -> Usage {
    let shift = mmu.page_shift();
    let ps = mmu.page_size();
    let (lo, hi) = (v.start >> shift, v.end >> shift);
    let mut u = Usage {
        size: v.len(),
        ..Usage::default()
    };
    for &(_, e) in table.iter().filter(|(vpn, _)| *vpn >= lo && *vpn < hi) {
        if e & pte::PRESENT == 0 || e & pte::ZERO != 0 {
            continue;
        }
        let maps = mmu.frame(pte::pfn(e)).map_or(1, |f| f.mapcount.max(1)) as u64;
        u.rss += ps;
        u.pss += ps / maps;
        match (maps > 1, e & pte::DIRTY != 0) {
            (true, true) => u.shared_dirty += ps,
            (true, false) => u.shared_clean += ps,
            (false, true) => u.private_dirty += ps,
            (false, false) => u.private_clean += ps,
        }
        if e & pte::FILE == 0 {
            u.anonymous += ps;
        }
    }
    u
}
