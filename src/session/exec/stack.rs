//! The simulated stack of each process: its pointer, frames pushed and touched, growth limits.

use super::*;

impl Exec<'_> {
    pub(super) fn sp(&self, p: usize) -> u64 {
        match self.world.thread {
            Some(t) if self.world.current == Some(p) => self.world.os.procs[p].threads[t].sp,
            _ => self.world.os.procs[p].sp,
        }
    }

    pub(super) fn set_sp(&mut self, p: usize, v: u64) {
        match self.world.thread {
            Some(t) if self.world.current == Some(p) => self.world.os.procs[p].threads[t].sp = v,
            _ => self.world.os.procs[p].sp = v,
        }
    }

    /// A statement that uses the main stack needs one: a teaching machine's explicit layout
    /// may have left it out. A thread always has its own.
    pub(super) fn need_stack(&mut self, p: usize, what: &str, span: Span) -> R<()> {
        let on_thread = self.world.thread.is_some() && self.world.current == Some(p);
        let pr = &self.world.os.procs[p];
        if on_thread || pr.has_stack {
            return Ok(());
        }
        Err(stack_err(
            span,
            format!("process {} has no stack for `{what}`", pr.name),
            "needs a stack",
            format!(
                "list one in the process's regions: `process {} {{ stack 4 KiB }}`",
                pr.name
            ),
        ))
    }

    /// Pushes a frame of `size` bytes below `sp` (16-byte aligned) and writes its pages;
    /// returns the new stack pointer. A frame larger than the space below `sp` overflows the
    /// stack: the writes fault before they reach address 0.
    pub(super) fn push_frame(&mut self, p: usize, sp: u64, size: u64, span: Span) -> R<u64> {
        let new = sp.checked_sub(size).map(|n| n & !15);
        self.touch_frame(p, new.unwrap_or(0), sp, span)?;
        new.ok_or_else(|| {
            stack_err(
                span,
                format!(
                    "a frame of {} does not fit below the stack pointer {}",
                    units::size(size),
                    units::addr(sp)
                ),
                "too large",
                "use a smaller frame",
            )
        })
    }

    /// A new stack frame writes its pages, from the top (the return address) down.
    pub(super) fn touch_frame(&mut self, p: usize, low: u64, high: u64, span: Span) -> R<()> {
        let ps = self.world.mmu.page_size();
        let Some(mut a) = high.checked_sub(8) else {
            return Ok(());
        };
        while a >= low {
            self.access(p, a, Access::Write, span)?;
            match (a & !(ps - 1)).checked_sub(8) {
                Some(next) if next >= low => a = next,
                _ => break,
            }
        }
        Ok(())
    }
}
