// The words of a pool's control block (an Int32Array at Layout.ctrl in the shared memory).
// GEN posts a job: (job number << 1) | shift, one word, where the job number counts modulo
// 2^31 and shift is 1 when a blocking caller is the job's participant 0 (so the last worker sits
// it out), else 0. A worker learns from the one read whether it takes part: a worker that sits a
// job out may read the word late, after that job is done and the next one posted, and were the
// shift a word of its own it could read the next job's and join a job that is over.
export const GEN = 0;
export const CMD = 1; // RUN or EXIT
export const ROWS = 2; // tokens in the job's block
export const ARRIVE = 3; // barrier counter: n after the expansion, 2n when the job is done
export const ERROR = 4; // 0, or 1 + the id of a worker that failed
export const HEART = 5; // bumped by workers after every kernel call (the watchdog reads it)
export const FAULT = 6; // tests only: 1 + id makes that worker throw, -(1 + id) makes it exit
export const MESSAGE_LENGTH = 7; // bytes of the failed worker's message, at byte 256
export const STALL = 8; // tests only: 1 + id makes that worker sleep after it reads GEN
export const STALL_MS = 11; // tests only: how long STALL's worker sleeps, ms (-1: until it is ended)
export const STARTED = 9; // workers that have instantiated the kernel and are ready
export const SET = 10; // which of the layout's sets of maps the job computes (a mixture's expert), else 0
// Bumped by the calling thread when another pool posts a job after this pool's: a worker
// waiting for its next job sleeps at once instead of spinning (see the worker's idle loop).
export const HUSH = 12;
// Bumped (and notified) for every job the last worker takes part in (all but a blocking
// caller's, where it sits out) and when the pool ends: that worker sleeps on this word instead
// of GEN, so a blocking call wakes only the workers it needs.
export const LAST = 13;
export const MESSAGE_AT = 256;
export const MESSAGE_MAX = 1024;

export const RUN = 1;
export const EXIT = 2;

/** Atomics.load polls before a waiting thread sleeps in Atomics.wait (tens of microseconds). */
export const SPIN = 20000;
