/* walk.c: a tiny program whose memory trace is replayed by memsim's lesson on page replacement.
 * It adds one to every 8th int of a 16 x 1024 grid (one 4 KiB page per row), column by column:
 * consecutive accesses fall on different pages, and each pass visits all 16 pages in turn.
 * No C library and no stack: the trace holds only this loop's instruction fetches and the
 * grid's loads and stores.
 *
 *   gcc -O1 -static -nostdlib -no-pie -fno-asynchronous-unwind-tables -o walk walk.c
 *   valgrind --tool=lackey --trace-mem=yes --log-file=walk.lackey ./walk
 */
#define ROWS 16
#define COLS 1024

int grid[ROWS][COLS];

void _start(void)
{
    for (int col = 0; col < 256; col += 8)
        for (int row = 0; row < ROWS; row++)
            grid[row][col] += 1;
    __asm__ volatile("mov $60, %eax\n\txor %edi, %edi\n\tsyscall");
}
