// jemalloc's settings for giosg-gateway, read by jemalloc at its first allocation (linked only
// when the executable is built with jemalloc; see the top-level CMakeLists.txt).
//
// A broker takes bursts of connections: each active session costs a few KiB, a parked idle one
// a few hundred bytes (docs/architecture.md "Idle connections"). After a burst the freed pages
// must go back to the system, or RSS stays at the burst's peak. jemalloc keeps each size class in
// its own slabs, so the session pieces freed at parking leave whole pages empty, and a background
// thread returns them after a second unused (dirty_decay_ms): the workers never purge inline and
// an idle worker, which allocates nothing, still gets its memory returned. Returned pages are
// released at once (muzzy_decay_ms 0), so RSS shows what is in use. MALLOC_CONF in the
// environment still overrides each of these.
extern "C" {
// NOLINTNEXTLINE: the name and type are jemalloc's interface.
const char* malloc_conf = "background_thread:true,max_background_threads:1,dirty_decay_ms:1000,muzzy_decay_ms:0";
}
