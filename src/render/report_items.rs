//! The report's events and `show` tables: serializable copies of the engine's events and
//! snapshots, so the JSON/YAML schema (docs/report-schema.md) is written here, field by field,
//! and the engine's types can change without a script noticing.

use serde::Serialize;

use crate::events::{Event, EvictAction, MajorReason, MinorReason, SegvCode, SmallEntry};
use crate::heap::ChunkView;
use crate::machine::Access;
use crate::session::snapshot::{
    FrameRow, MachineRow, MapRow, PteRow, SmapsRow, SweepRow, TlbRow, WalkLevel, WalkSnap,
};
use crate::session::Snapshot;

use super::report::StatsReport;

/// `read`, `write` or `exec`.
fn access(a: Access) -> &'static str {
    match a {
        Access::Read => "read",
        Access::Write => "write",
        Access::Exec => "exec",
    }
}

fn minor_reason(r: MinorReason) -> &'static str {
    match r {
        MinorReason::ZeroPage => "zero_page",
        MinorReason::DemandZero => "demand_zero",
        MinorReason::ZeroPageWrite => "zero_page_write",
        MinorReason::CopyOnWrite => "copy_on_write",
        MinorReason::CopyOnWriteLast => "copy_on_write_last",
        MinorReason::PageCache => "page_cache",
    }
}

fn major_reason(r: MajorReason) -> &'static str {
    match r {
        MajorReason::FileRead => "file_read",
        MajorReason::SwapIn => "swap_in",
    }
}

fn segv_code(c: SegvCode) -> &'static str {
    c.name()
}

/// An event of the machine: an object whose `event` field names it.
#[derive(Debug, Serialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum EventReport<'a> {
    MinorFault {
        pid: u32,
        vaddr: u64,
        access: &'static str,
        reason: &'static str,
        pfn: u64,
        region: &'a str,
    },
    MajorFault {
        pid: u32,
        vaddr: u64,
        access: &'static str,
        reason: &'static str,
        pfn: u64,
        region: &'a str,
    },
    StackGrowth {
        pid: u32,
        old_start: u64,
        new_start: u64,
    },
    Segv {
        pid: u32,
        vaddr: u64,
        access: &'static str,
        code: &'static str,
        detail: &'a str,
    },
    #[serde(rename = "sigbus")]
    Bus {
        pid: u32,
        vaddr: u64,
        access: &'static str,
        detail: &'a str,
    },
    Brk {
        pid: u32,
        old: u64,
        new: u64,
    },
    Mmap {
        pid: u32,
        start: u64,
        len: u64,
        perms: &'a str,
        what: &'a str,
    },
    Munmap {
        pid: u32,
        start: u64,
        len: u64,
    },
    Mprotect {
        pid: u32,
        start: u64,
        len: u64,
        perms: &'a str,
    },
    MmapMoved {
        pid: u32,
        name: &'a str,
        hint: u64,
        start: u64,
        len: u64,
        why: &'a str,
    },
    SyscallFailed {
        pid: u32,
        call: &'a str,
        result: &'a str,
        errno: &'a str,
        reason: &'a str,
    },
    Alloc {
        pid: u32,
        call: &'a str,
        result: u64,
        detail: &'a str,
    },
    Abort {
        pid: u32,
        message: &'a str,
    },
    Oom {
        pid: u32,
        vaddr: u64,
    },
    Exit {
        pid: u32,
        status: i32,
        reason: &'a str,
    },
    Switch {
        from: u32,
        to: u32,
        tlb_flushed: bool,
    },
    Fork {
        parent: u32,
        child: u32,
    },
    ForkFailed {
        parent: u32,
        limit: usize,
    },
    Eviction {
        pid: u32,
        pfn: u64,
        victim: &'a str,
        policy: &'a str,
        action: ActionReport,
    },
    PolicyAccess {
        pid: u32,
        page: u64,
        hit: bool,
        left: &'a str,
        right: &'a str,
        memory: &'a [u64],
        victim: Option<u64>,
        hits: u64,
        misses: u64,
    },
    Translate {
        pid: u32,
        vaddr: u64,
        vpn: u64,
        paddr: Option<u64>,
        why: &'a str,
        ostep: bool,
    },
    SegTranslate {
        pid: u32,
        index: u64,
        vaddr: u64,
        paddr: Option<u64>,
        segment: Option<u8>,
        why: &'a str,
        ostep: bool,
    },
    WalkTranslate {
        pid: u32,
        vaddr: u64,
        pdbr: u64,
        levels: Vec<SmallEntryReport>,
        paddr: Option<u64>,
        value: Option<u8>,
        ostep: bool,
    },
    SwapOut {
        pid: u32,
        vaddr: u64,
        pfn: u64,
        slot: u64,
    },
    SwapIn {
        pid: u32,
        vaddr: u64,
        access: &'static str,
        slot: u64,
        pfn: u64,
        region: &'a str,
    },
}

/// What an eviction did with the page: an object whose `kind` field says which.
#[derive(Debug, Clone, Copy, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ActionReport {
    Dropped,
    WrittenBack,
    SwappedOut { slot: u64 },
    Discarded { slot: u64 },
}

impl From<EvictAction> for ActionReport {
    fn from(a: EvictAction) -> Self {
        match a {
            EvictAction::Dropped => ActionReport::Dropped,
            EvictAction::WrittenBack => ActionReport::WrittenBack,
            EvictAction::SwappedOut { slot } => ActionReport::SwappedOut { slot },
            EvictAction::Discarded { slot } => ActionReport::Discarded { slot },
        }
    }
}

/// One entry a walk of OSTEP's small two-level machine read.
#[derive(Debug, Serialize)]
pub struct SmallEntryReport {
    table: u64,
    index: u64,
    addr: u64,
    entry: u8,
    valid: bool,
    pfn: u8,
}

impl From<&SmallEntry> for SmallEntryReport {
    fn from(l: &SmallEntry) -> Self {
        SmallEntryReport {
            table: l.table,
            index: l.index,
            addr: l.addr,
            entry: l.entry,
            valid: l.entry & crate::machine::small::VALID != 0,
            pfn: l.entry & !crate::machine::small::VALID,
        }
    }
}

impl<'a> From<&'a Event> for EventReport<'a> {
    fn from(e: &'a Event) -> Self {
        match e {
            Event::MinorFault {
                pid,
                vaddr,
                access: a,
                reason,
                pfn,
                region,
            } => EventReport::MinorFault {
                pid: *pid,
                vaddr: *vaddr,
                access: access(*a),
                reason: minor_reason(*reason),
                pfn: *pfn,
                region,
            },
            Event::MajorFault {
                pid,
                vaddr,
                access: a,
                reason,
                pfn,
                region,
            } => EventReport::MajorFault {
                pid: *pid,
                vaddr: *vaddr,
                access: access(*a),
                reason: major_reason(*reason),
                pfn: *pfn,
                region,
            },
            Event::StackGrowth {
                pid,
                old_start,
                new_start,
            } => EventReport::StackGrowth {
                pid: *pid,
                old_start: *old_start,
                new_start: *new_start,
            },
            Event::Segv {
                pid,
                vaddr,
                access: a,
                code,
                detail,
            } => EventReport::Segv {
                pid: *pid,
                vaddr: *vaddr,
                access: access(*a),
                code: segv_code(*code),
                detail,
            },
            Event::Bus {
                pid,
                vaddr,
                access: a,
                detail,
            } => EventReport::Bus {
                pid: *pid,
                vaddr: *vaddr,
                access: access(*a),
                detail,
            },
            Event::Brk { pid, old, new } => EventReport::Brk {
                pid: *pid,
                old: *old,
                new: *new,
            },
            Event::Mmap {
                pid,
                start,
                len,
                perms,
                what,
            } => EventReport::Mmap {
                pid: *pid,
                start: *start,
                len: *len,
                perms,
                what,
            },
            Event::Munmap { pid, start, len } => EventReport::Munmap {
                pid: *pid,
                start: *start,
                len: *len,
            },
            Event::Mprotect {
                pid,
                start,
                len,
                perms,
            } => EventReport::Mprotect {
                pid: *pid,
                start: *start,
                len: *len,
                perms,
            },
            Event::MmapMoved {
                pid,
                name,
                hint,
                start,
                len,
                why,
            } => EventReport::MmapMoved {
                pid: *pid,
                name,
                hint: *hint,
                start: *start,
                len: *len,
                why,
            },
            Event::SyscallFailed {
                pid,
                call,
                result,
                errno,
                reason,
            } => EventReport::SyscallFailed {
                pid: *pid,
                call,
                result,
                errno,
                reason,
            },
            Event::Alloc {
                pid,
                call,
                result,
                detail,
                radix: _,
            } => EventReport::Alloc {
                pid: *pid,
                call,
                result: *result,
                detail,
            },
            Event::Abort { pid, message } => EventReport::Abort { pid: *pid, message },
            Event::Oom { pid, vaddr } => EventReport::Oom {
                pid: *pid,
                vaddr: *vaddr,
            },
            Event::Exit {
                pid,
                status,
                reason,
            } => EventReport::Exit {
                pid: *pid,
                status: *status,
                reason,
            },
            Event::Switch {
                from,
                to,
                tlb_flushed,
            } => EventReport::Switch {
                from: *from,
                to: *to,
                tlb_flushed: *tlb_flushed,
            },
            Event::Fork { parent, child } => EventReport::Fork {
                parent: *parent,
                child: *child,
            },
            Event::ForkFailed { parent, limit } => EventReport::ForkFailed {
                parent: *parent,
                limit: *limit,
            },
            Event::Eviction {
                pid,
                pfn,
                victim,
                policy,
                action,
            } => EventReport::Eviction {
                pid: *pid,
                pfn: *pfn,
                victim,
                policy,
                action: (*action).into(),
            },
            Event::PolicyAccess {
                pid,
                page,
                hit,
                left,
                right,
                memory,
                victim,
                hits,
                misses,
            } => EventReport::PolicyAccess {
                pid: *pid,
                page: *page,
                hit: *hit,
                left,
                right,
                memory,
                victim: *victim,
                hits: *hits,
                misses: *misses,
            },
            Event::Translate {
                pid,
                vaddr,
                vpn,
                paddr,
                why,
                ostep,
            } => EventReport::Translate {
                pid: *pid,
                vaddr: *vaddr,
                vpn: *vpn,
                paddr: *paddr,
                why,
                ostep: *ostep,
            },
            Event::SegTranslate {
                pid,
                index,
                vaddr,
                paddr,
                segment,
                why,
                ostep,
            } => EventReport::SegTranslate {
                pid: *pid,
                index: *index,
                vaddr: *vaddr,
                paddr: *paddr,
                segment: *segment,
                why,
                ostep: *ostep,
            },
            Event::WalkTranslate {
                pid,
                vaddr,
                pdbr,
                levels,
                paddr,
                value,
                ostep,
            } => EventReport::WalkTranslate {
                pid: *pid,
                vaddr: *vaddr,
                pdbr: *pdbr,
                levels: levels.iter().map(SmallEntryReport::from).collect(),
                paddr: *paddr,
                value: *value,
                ostep: *ostep,
            },
            Event::SwapOut {
                pid,
                vaddr,
                pfn,
                slot,
            } => EventReport::SwapOut {
                pid: *pid,
                vaddr: *vaddr,
                pfn: *pfn,
                slot: *slot,
            },
            Event::SwapIn {
                pid,
                vaddr,
                access: a,
                slot,
                pfn,
                region,
            } => EventReport::SwapIn {
                pid: *pid,
                vaddr: *vaddr,
                access: access(*a),
                slot: *slot,
                pfn: *pfn,
                region,
            },
        }
    }
}

/// A `show` table (or a `sweep`'s): an object whose `show` field names it.
#[derive(Debug, Serialize)]
#[serde(tag = "show", rename_all = "snake_case")]
pub enum ShowReport<'a> {
    Maps {
        pid: u32,
        page_size: u64,
        rows: Vec<MapReport<'a>>,
    },
    Smaps {
        pid: u32,
        rows: Vec<SmapsReport<'a>>,
    },
    PageTable {
        pid: u32,
        levels: usize,
        rows: Vec<PteReport<'a>>,
        #[serde(skip_serializing_if = "Option::is_none")]
        linear: Option<&'a [Option<u64>]>,
        #[serde(skip_serializing_if = "Option::is_none")]
        directory: Option<DirectoryReport>,
    },
    Walk(WalkReport<'a>),
    Tlb {
        capacity: usize,
        ways: usize,
        enabled: bool,
        rows: Vec<TlbReport<'a>>,
    },
    Frames {
        total: u64,
        used: u64,
        rows: Vec<FrameReport<'a>>,
        policy: &'a str,
        next_victim: Option<u64>,
    },
    Heap {
        pid: u32,
        allocator: &'a str,
        rows: Vec<ChunkReport<'a>>,
        #[serde(skip_serializing_if = "Option::is_none")]
        free_list: Option<&'a [(u64, u64)]>,
    },
    Stats(StatsReport),
    Memory {
        addr: u64,
        bytes: &'a [Option<u8>],
        #[serde(skip_serializing_if = "is_zero")]
        omitted: u64,
    },
    Swap {
        slots: u64,
        used: u64,
    },
    Machine {
        rows: Vec<MachineReport<'a>>,
    },
    Sweep {
        params: &'a [String],
        columns: &'a [String],
        rows: Vec<SweepReport<'a>>,
    },
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

#[derive(Debug, Serialize)]
pub struct MapReport<'a> {
    pub start: u64,
    pub end: u64,
    pub perms: &'a str,
    pub offset: u64,
    pub name: &'a str,
    pub kind: &'a str,
    pub resident_pages: u64,
    pub resident: &'a [[u64; 2]],
}

#[derive(Debug, Serialize)]
pub struct SmapsReport<'a> {
    pub map: MapReport<'a>,
    pub size: u64,
    pub rss: u64,
    pub pss: u64,
    pub shared_clean: u64,
    pub shared_dirty: u64,
    pub private_clean: u64,
    pub private_dirty: u64,
    pub anonymous: u64,
    pub page_size: u64,
}

#[derive(Debug, Serialize)]
pub struct PteReport<'a> {
    pub vpn: u64,
    pub pfn: Option<u64>,
    pub present: bool,
    pub dirty: bool,
    pub accessed: bool,
    pub perms: &'a str,
    pub note: &'a str,
}

/// OSTEP's small two-level machine's page directory: its valid entries, each with the valid
/// entries of its page table.
#[derive(Debug, Serialize)]
pub struct DirectoryReport {
    pub pdbr: u64,
    pub tables: Vec<SmallTableReport>,
}

#[derive(Debug, Serialize)]
pub struct SmallTableReport {
    /// The directory entry's index and byte, and the page that holds the table.
    pub index: u64,
    pub entry: u8,
    pub page: u64,
    pub entries: Vec<SmallPteReport>,
}

#[derive(Debug, Serialize)]
pub struct SmallPteReport {
    pub index: u64,
    pub entry: u8,
    pub page: u64,
}

#[derive(Debug, Serialize)]
pub struct WalkReport<'a> {
    pub vaddr: u64,
    pub level_bits: &'a [u32],
    pub vpn: u64,
    pub offset: u64,
    pub page_shift: u32,
    pub levels: Vec<WalkLevelReport<'a>>,
    pub paddr: Option<u64>,
    pub mapped: bool,
    pub outcome: &'a str,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub translate_only: bool,
}

#[derive(Debug, Serialize)]
pub struct WalkLevelReport<'a> {
    pub level: usize,
    pub table: u32,
    pub index: usize,
    pub entry: u64,
    pub meaning: &'a str,
}

#[derive(Debug, Serialize)]
pub struct TlbReport<'a> {
    pub slot: usize,
    pub asid: u32,
    pub vpn: u64,
    pub pfn: u64,
    pub perms: &'a str,
    pub dirty: bool,
}

#[derive(Debug, Serialize)]
pub struct FrameReport<'a> {
    pub pfn: u64,
    pub owner: &'a str,
    pub mapcount: u32,
    pub pid: Option<u32>,
    pub region: &'a str,
    pub vaddr: Option<u64>,
    pub file: Option<&'a str>,
    pub page: u64,
}

#[derive(Debug, Serialize)]
pub struct ChunkReport<'a> {
    pub addr: u64,
    pub size: u64,
    pub in_use: bool,
    pub bin: &'a str,
}

#[derive(Debug, Serialize)]
pub struct MachineReport<'a> {
    pub setting: &'a str,
    pub value: &'a str,
}

#[derive(Debug, Serialize)]
pub struct SweepReport<'a> {
    pub params: &'a [String],
    pub values: &'a [String],
    pub note: &'a str,
}

impl<'a> From<&'a MapRow> for MapReport<'a> {
    fn from(r: &'a MapRow) -> Self {
        MapReport {
            start: r.start,
            end: r.end,
            perms: &r.perms,
            offset: r.offset,
            name: &r.name,
            kind: &r.kind,
            resident_pages: r.resident_pages,
            resident: &r.resident,
        }
    }
}

impl<'a> From<&'a SmapsRow> for SmapsReport<'a> {
    fn from(r: &'a SmapsRow) -> Self {
        SmapsReport {
            map: MapReport::from(&r.map),
            size: r.size,
            rss: r.rss,
            pss: r.pss,
            shared_clean: r.shared_clean,
            shared_dirty: r.shared_dirty,
            private_clean: r.private_clean,
            private_dirty: r.private_dirty,
            anonymous: r.anonymous,
            page_size: r.page_size,
        }
    }
}

impl<'a> From<&'a PteRow> for PteReport<'a> {
    fn from(r: &'a PteRow) -> Self {
        PteReport {
            vpn: r.vpn,
            pfn: r.pfn,
            present: r.present,
            dirty: r.dirty,
            accessed: r.accessed,
            perms: &r.perms,
            note: &r.note,
        }
    }
}

impl<'a> From<&'a WalkLevel> for WalkLevelReport<'a> {
    fn from(l: &'a WalkLevel) -> Self {
        WalkLevelReport {
            level: l.level,
            table: l.table,
            index: l.index,
            entry: l.entry,
            meaning: &l.meaning,
        }
    }
}

impl<'a> From<&'a WalkSnap> for WalkReport<'a> {
    fn from(w: &'a WalkSnap) -> Self {
        WalkReport {
            vaddr: w.vaddr,
            level_bits: &w.level_bits,
            vpn: w.vpn,
            offset: w.offset,
            page_shift: w.page_shift,
            levels: w.levels.iter().map(WalkLevelReport::from).collect(),
            paddr: w.paddr,
            mapped: w.mapped,
            outcome: &w.outcome,
            translate_only: w.translate_only,
        }
    }
}

impl<'a> From<&'a TlbRow> for TlbReport<'a> {
    fn from(r: &'a TlbRow) -> Self {
        TlbReport {
            slot: r.slot,
            asid: r.asid,
            vpn: r.vpn,
            pfn: r.pfn,
            perms: &r.perms,
            dirty: r.dirty,
        }
    }
}

impl<'a> From<&'a FrameRow> for FrameReport<'a> {
    fn from(r: &'a FrameRow) -> Self {
        FrameReport {
            pfn: r.pfn,
            owner: &r.owner,
            mapcount: r.mapcount,
            pid: r.pid,
            region: &r.region,
            vaddr: r.vaddr,
            file: r.file.as_deref(),
            page: r.page,
        }
    }
}

impl<'a> From<&'a ChunkView> for ChunkReport<'a> {
    fn from(c: &'a ChunkView) -> Self {
        ChunkReport {
            addr: c.addr,
            size: c.size,
            in_use: c.in_use,
            bin: &c.bin,
        }
    }
}

impl<'a> From<&'a MachineRow> for MachineReport<'a> {
    fn from(r: &'a MachineRow) -> Self {
        MachineReport {
            setting: &r.setting,
            value: &r.value,
        }
    }
}

impl<'a> From<&'a SweepRow> for SweepReport<'a> {
    fn from(r: &'a SweepRow) -> Self {
        SweepReport {
            params: &r.params,
            values: &r.values,
            note: &r.note,
        }
    }
}

impl<'a> From<&'a Snapshot> for ShowReport<'a> {
    fn from(s: &'a Snapshot) -> Self {
        fn rows<'a, T, R: From<&'a T>>(v: &'a [T]) -> Vec<R> {
            v.iter().map(R::from).collect()
        }
        match s {
            Snapshot::Maps {
                pid,
                page_size,
                rows: r,
            } => ShowReport::Maps {
                pid: *pid,
                page_size: *page_size,
                rows: rows(r),
            },
            Snapshot::Smaps { pid, rows: r } => ShowReport::Smaps {
                pid: *pid,
                rows: rows(r),
            },
            Snapshot::PageTable {
                pid,
                levels,
                rows: r,
                linear,
                directory,
            } => ShowReport::PageTable {
                pid: *pid,
                levels: *levels,
                rows: rows(r),
                linear: linear.as_deref(),
                directory: directory.as_ref().map(|d| DirectoryReport {
                    pdbr: d.pdbr,
                    tables: d
                        .tables
                        .iter()
                        .map(|t| SmallTableReport {
                            index: t.index,
                            entry: t.entry,
                            page: t.page,
                            entries: t
                                .entries
                                .iter()
                                .map(|&(index, entry)| SmallPteReport {
                                    index,
                                    entry,
                                    page: u64::from(entry & !crate::machine::small::VALID),
                                })
                                .collect(),
                        })
                        .collect(),
                }),
            },
            Snapshot::Walk(w) => ShowReport::Walk(w.into()),
            Snapshot::Tlb {
                capacity,
                ways,
                enabled,
                rows: r,
            } => ShowReport::Tlb {
                capacity: *capacity,
                ways: *ways,
                enabled: *enabled,
                rows: rows(r),
            },
            Snapshot::Frames {
                total,
                used,
                rows: r,
                policy,
                next_victim,
            } => ShowReport::Frames {
                total: *total,
                used: *used,
                rows: rows(r),
                policy,
                next_victim: *next_victim,
            },
            Snapshot::Heap {
                pid,
                allocator,
                radix: _,
                rows: r,
                free_list,
            } => ShowReport::Heap {
                pid: *pid,
                allocator,
                rows: rows(r),
                free_list: free_list.as_deref(),
            },
            Snapshot::Stats(s) => ShowReport::Stats(s.into()),
            Snapshot::Memory {
                addr,
                bytes,
                omitted,
            } => ShowReport::Memory {
                addr: *addr,
                bytes,
                omitted: *omitted,
            },
            Snapshot::Swap { slots, used } => ShowReport::Swap {
                slots: *slots,
                used: *used,
            },
            Snapshot::Machine { rows: r } => ShowReport::Machine { rows: rows(r) },
            Snapshot::Sweep {
                params,
                columns,
                rows: r,
            } => ShowReport::Sweep {
                params,
                columns,
                rows: rows(r),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;
    use crate::session::snapshot::{ProcRow, StatsSnap};
    use crate::session::{Options, Session};

    /// One event of each kind; the match makes a new kind fail to compile until it is here.
    fn every_event() -> Vec<Event> {
        let s = String::new;
        let all = vec![
            Event::MinorFault {
                pid: 1,
                vaddr: 0,
                access: Access::Read,
                reason: MinorReason::ZeroPage,
                pfn: 0,
                region: s(),
            },
            Event::MajorFault {
                pid: 1,
                vaddr: 0,
                access: Access::Write,
                reason: MajorReason::FileRead,
                pfn: 0,
                region: s(),
            },
            Event::StackGrowth {
                pid: 1,
                old_start: 0,
                new_start: 0,
            },
            Event::Segv {
                pid: 1,
                vaddr: 0,
                access: Access::Exec,
                code: SegvCode::MapErr,
                detail: s(),
            },
            Event::Bus {
                pid: 1,
                vaddr: 0,
                access: Access::Read,
                detail: s(),
            },
            Event::Brk {
                pid: 1,
                old: 0,
                new: 0,
            },
            Event::Mmap {
                pid: 1,
                start: 0,
                len: 0,
                perms: s(),
                what: s(),
            },
            Event::Munmap {
                pid: 1,
                start: 0,
                len: 0,
            },
            Event::Mprotect {
                pid: 1,
                start: 0,
                len: 0,
                perms: s(),
            },
            Event::MmapMoved {
                pid: 1,
                name: s(),
                hint: 0,
                start: 0,
                len: 0,
                why: s(),
            },
            Event::SyscallFailed {
                pid: 1,
                call: s(),
                result: s(),
                errno: s(),
                reason: s(),
            },
            Event::Alloc {
                pid: 1,
                call: s(),
                result: 0,
                detail: s(),
                radix: crate::units::Radix::Hex,
            },
            Event::Abort {
                pid: 1,
                message: s(),
            },
            Event::Oom { pid: 1, vaddr: 0 },
            Event::Exit {
                pid: 1,
                status: 0,
                reason: s(),
            },
            Event::Switch {
                from: 1,
                to: 2,
                tlb_flushed: true,
            },
            Event::Fork {
                parent: 1,
                child: 2,
            },
            Event::ForkFailed {
                parent: 1,
                limit: 2,
            },
            Event::Eviction {
                pid: 1,
                pfn: 0,
                victim: s(),
                policy: s(),
                action: EvictAction::SwappedOut { slot: 0 },
            },
            Event::PolicyAccess {
                pid: 1,
                page: 0,
                hit: false,
                left: s(),
                right: s(),
                memory: vec![0],
                victim: Some(0),
                hits: 0,
                misses: 1,
            },
            Event::Translate {
                pid: 1,
                vaddr: 0,
                vpn: 0,
                paddr: Some(0),
                why: s(),
                ostep: true,
            },
            Event::SegTranslate {
                pid: 1,
                index: 0,
                vaddr: 0,
                paddr: Some(0),
                segment: Some(0),
                why: s(),
                ostep: true,
            },
            Event::WalkTranslate {
                pid: 1,
                vaddr: 0,
                pdbr: 0,
                levels: vec![SmallEntry {
                    table: 0,
                    index: 0,
                    addr: 0,
                    entry: 0x81,
                }],
                paddr: Some(0),
                value: Some(0),
                ostep: true,
            },
            Event::SwapOut {
                pid: 1,
                vaddr: 0,
                pfn: 0,
                slot: 0,
            },
            Event::SwapIn {
                pid: 1,
                vaddr: 0,
                access: Access::Read,
                slot: 0,
                pfn: 0,
                region: s(),
            },
        ];
        let mut seen = BTreeSet::new();
        for e in &all {
            seen.insert(match e {
                Event::MinorFault { .. } => 0,
                Event::MajorFault { .. } => 1,
                Event::StackGrowth { .. } => 2,
                Event::Segv { .. } => 3,
                Event::Brk { .. } => 4,
                Event::Mmap { .. } => 5,
                Event::Munmap { .. } => 6,
                Event::Mprotect { .. } => 7,
                Event::MmapMoved { .. } => 8,
                Event::SyscallFailed { .. } => 9,
                Event::Alloc { .. } => 10,
                Event::Abort { .. } => 11,
                Event::Oom { .. } => 12,
                Event::Exit { .. } => 13,
                Event::Switch { .. } => 14,
                Event::Fork { .. } => 15,
                Event::ForkFailed { .. } => 16,
                Event::Eviction { .. } => 17,
                Event::SwapOut { .. } => 18,
                Event::SwapIn { .. } => 19,
                Event::PolicyAccess { .. } => 20,
                Event::Translate { .. } => 21,
                Event::SegTranslate { .. } => 22,
                Event::WalkTranslate { .. } => 23,
                Event::Bus { .. } => 24,
            });
        }
        assert_eq!(seen.len(), 25, "one event of each kind");
        all
    }

    /// One table of each `show` target, every row type filled; the match as above.
    fn every_snapshot() -> Vec<Snapshot> {
        let map = MapRow {
            start: 0,
            end: 0,
            perms: String::new(),
            offset: 0,
            name: String::new(),
            kind: String::new(),
            resident_pages: 0,
            resident: vec![[0, 1]],
        };
        let all = vec![
            Snapshot::Maps {
                pid: 1,
                page_size: 4096,
                rows: vec![map.clone()],
            },
            Snapshot::Smaps {
                pid: 1,
                rows: vec![SmapsRow {
                    map,
                    size: 0,
                    rss: 0,
                    pss: 0,
                    shared_clean: 0,
                    shared_dirty: 0,
                    private_clean: 0,
                    private_dirty: 0,
                    anonymous: 0,
                    page_size: 0,
                }],
            },
            Snapshot::PageTable {
                pid: 1,
                levels: 1,
                rows: vec![PteRow {
                    vpn: 0,
                    pfn: Some(0),
                    present: true,
                    dirty: false,
                    accessed: false,
                    perms: String::new(),
                    note: String::new(),
                }],
                linear: Some(vec![Some(0), None]),
                directory: Some(crate::session::snapshot::DirectorySnap {
                    pdbr: 0,
                    tables: vec![crate::machine::small::SmallTable {
                        index: 0,
                        entry: 0x81,
                        page: 1,
                        entries: vec![(0, 0x82)],
                    }],
                }),
            },
            Snapshot::Walk(WalkSnap {
                vaddr: 0,
                level_bits: vec![10],
                vpn: 0,
                offset: 0,
                page_shift: 12,
                levels: vec![WalkLevel {
                    level: 0,
                    table: 0,
                    index: 0,
                    entry: 0,
                    meaning: String::new(),
                }],
                paddr: None,
                mapped: false,
                outcome: String::new(),
                translate_only: true,
            }),
            Snapshot::Tlb {
                capacity: 1,
                ways: 1,
                enabled: true,
                rows: vec![TlbRow {
                    slot: 0,
                    asid: 0,
                    vpn: 0,
                    pfn: 0,
                    perms: String::new(),
                    dirty: false,
                }],
            },
            Snapshot::Frames {
                total: 1,
                used: 1,
                rows: vec![FrameRow {
                    pfn: 0,
                    owner: String::new(),
                    mapcount: 0,
                    pid: None,
                    region: String::new(),
                    vaddr: None,
                    file: None,
                    page: 0,
                }],
                policy: String::new(),
                next_victim: None,
            },
            Snapshot::Heap {
                pid: 1,
                allocator: String::new(),
                radix: crate::units::Radix::Hex,
                rows: vec![ChunkView {
                    addr: 0,
                    size: 0,
                    in_use: false,
                    bin: String::new(),
                }],
                free_list: Some(vec![(0, 16)]),
            },
            Snapshot::Stats(StatsSnap {
                per_process: vec![ProcRow::default()],
                ..StatsSnap::default()
            }),
            Snapshot::Memory {
                addr: 0,
                bytes: vec![Some(0), None],
                omitted: 1,
            },
            Snapshot::Swap { slots: 1, used: 0 },
            Snapshot::Machine {
                rows: vec![MachineRow {
                    setting: String::new(),
                    value: String::new(),
                }],
            },
            Snapshot::Sweep {
                params: vec![],
                columns: vec![],
                rows: vec![SweepRow {
                    params: vec![],
                    values: vec![],
                    note: String::new(),
                }],
            },
        ];
        let mut seen = BTreeSet::new();
        for s in &all {
            seen.insert(match s {
                Snapshot::Maps { .. } => 0,
                Snapshot::Smaps { .. } => 1,
                Snapshot::PageTable { .. } => 2,
                Snapshot::Walk(_) => 3,
                Snapshot::Tlb { .. } => 4,
                Snapshot::Frames { .. } => 5,
                Snapshot::Heap { .. } => 6,
                Snapshot::Stats(_) => 7,
                Snapshot::Memory { .. } => 8,
                Snapshot::Swap { .. } => 9,
                Snapshot::Machine { .. } => 10,
                Snapshot::Sweep { .. } => 11,
            });
        }
        assert_eq!(seen.len(), 12, "one table of each target");
        all
    }

    /// Every key of `v`, and every value of a tag (`event`, `show`, `kind`, `severity`).
    fn names(v: &serde_json::Value, out: &mut BTreeSet<String>) {
        match v {
            serde_json::Value::Object(m) => {
                for (k, v) in m {
                    out.insert(k.clone());
                    if matches!(k.as_str(), "event" | "show" | "kind") {
                        if let Some(s) = v.as_str() {
                            out.insert(s.to_string());
                        }
                    }
                    names(v, out);
                }
            }
            serde_json::Value::Array(a) => a.iter().for_each(|v| names(v, out)),
            _ => {}
        }
    }

    #[test]
    fn the_schema_document_names_every_field_the_report_emits() {
        let mut all = BTreeSet::new();
        for e in &every_event() {
            names(
                &serde_json::to_value(EventReport::from(e)).expect("event"),
                &mut all,
            );
        }
        for s in &every_snapshot() {
            names(
                &serde_json::to_value(ShowReport::from(s)).expect("show"),
                &mut all,
            );
        }
        let mut session = Session::new(Options::default());
        let r = session.execute(
            "t.mem",
            "let p = malloc(8)\nprint 1\nshow stats\nexpect 1 == 2\nlet q = nope\n",
        );
        let v: serde_json::Value =
            serde_json::from_str(&super::super::report::json(&[r])).expect("JSON");
        names(&v, &mut all);
        let doc = std::fs::read_to_string(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/report-schema.md"),
        )
        .expect("docs/report-schema.md");
        let missing: Vec<&String> = all
            .iter()
            .filter(|k| !doc.contains(&format!("`{k}`")))
            .collect();
        assert!(
            missing.is_empty(),
            "docs/report-schema.md does not name {missing:?}"
        );
    }
}
