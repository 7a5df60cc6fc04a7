/* The rule catalogue's data: name patterns and advice per rule (docs/rules.md documents it; keep both in step). */
#include <stddef.h>

#include "rules.h"

static const struct rule_pattern alloc_pats[] = {
	{ "=malloc", 0 }, { "=free", 0 }, { "=calloc", 0 }, { "=realloc", 0 }, { "=cfree", 0 },
	{ "^__libc_malloc", 0 }, { "^__libc_free", 0 }, { "^__libc_calloc", 0 }, { "^__libc_realloc", 0 },
	{ "^__GI___libc_malloc", 0 }, { "^__GI___libc_free", 0 }, { "^__GI___libc_realloc", 0 },
	{ "^_int_malloc", 0 }, { "^_int_free", 0 }, { "^_int_realloc", 0 }, { "^malloc_consolidate", 0 },
	{ "=sysmalloc", 0 }, { "^tcache_", 0 }, { "^posix_memalign", 0 }, { "^aligned_alloc", 0 },
	{ "^operator new", 0 }, { "^operator delete", 0 }, { "=_Znwm", 0 }, { "=_Znam", 0 }, { "^_ZdlPv", 0 },
	{ "^_ZdaPv", 0 }, { "^_ZnwmRKSt9nothrow_t", 0 }, { "^je_", 0 }, { "^tc_malloc", 0 }, { "^tc_free", 0 },
	{ "^tc_new", 0 }, { "^tc_delete", 0 }, { "~tcmalloc::", 0 }, { "^mi_malloc", 0 }, { "^mi_free", 0 },
	{ "^_mi_malloc", 0 }, { "^_mi_free", 0 },
	{ "=runtime.mallocgc", 1 }, { "^runtime.mallocgc", 1 }, { "=runtime.newobject", 1 },
	{ "=runtime.makeslice", 1 }, { "=runtime.growslice", 1 }, { "=runtime.makemap", 1 },
	{ "^runtime.(*mcache).", 1 }, { "^runtime.(*mheap).alloc", 1 }, { "=runtime.rawstring", 1 },
	{ "=runtime.concatstrings", 1 }, { "=runtime.convT", 1 }, { "^runtime.convT", 1 },
	{ "^PyObject_Malloc", 2 }, { "^_PyObject_Malloc", 2 }, { "^PyObject_Free", 2 }, { "^_PyObject_Free", 2 },
	{ "^PyMem_", 2 }, { "^_PyMem_", 2 }, { "^pymalloc_", 2 }, { "^PyObject_Realloc", 2 },
	{ "^_PyObject_GC_New", 2 }, { "^_PyObject_GC_Alloc", 2 }, { "^PyType_GenericAlloc", 2 },
	{ "~MemAllocator::allocate", 3 }, { "~OptoRuntime::new_", 3 }, { "~InstanceKlass::allocate_instance", 3 },
	{ "~CollectedHeap::allocate", 3 }, { "~allocate_new_tlab", 3 },
	{ "~v8::internal::Factory::New", 4 }, { "~v8::internal::Heap::AllocateRaw", 4 },
	{ "^Builtins_Allocate", 4 },
	{ NULL, 0 },
};

static const char *const alloc_advice[] = {
	"Allocate less in the hot callers: reuse buffers and objects, reserve capacity up front instead of growing, "
	"keep small objects on the stack or in an arena/pool, or try a faster allocator (jemalloc, tcmalloc, "
	"mimalloc).",
	"Reduce the Go allocation rate in the hot callers: preallocate slices and maps (make with a capacity), reuse "
	"objects with sync.Pool, avoid converting values to interfaces and strings in loops; check "
	"'go build -gcflags=-m' for values that escape to the heap.",
	"Create fewer short-lived Python objects in the hot callers: reuse lists and dicts, use generators, "
	"__slots__, array/NumPy buffers instead of lists of numbers.",
	"Allocate fewer objects in the hot callers (reuse, primitive arrays instead of boxed collections); check "
	"that escape analysis can scalar-replace them and that TLABs are large enough.",
	"Create fewer temporary objects in hot JavaScript (reuse arrays and objects, avoid closures and spread "
	"copies in loops, use typed arrays).",
	"Allocate less in the hot callers: reuse buffers and objects and reserve capacity up front instead of "
	"growing. This allocator belongs to a runtime or library (its own arena), not to the process's C library, "
	"so swapping the process's malloc would not change it.",
	NULL,
};

static const struct rule_pattern gc_pats[] = {
	{ "=runtime.gcBgMarkWorker", 0 }, { "^runtime.gcDrain", 0 }, { "=runtime.scanobject", 0 },
	{ "^runtime.markroot", 0 }, { "^runtime.gcAssist", 0 }, { "^runtime.sweepone", 0 },
	{ "=runtime.bgsweep", 0 }, { "=runtime.greyobject", 0 }, { "=runtime.findObject", 0 },
	{ "=runtime.scanblock", 0 }, { "=runtime.scanstack", 0 }, { "=runtime.gcStart", 0 },
	{ "^runtime.wbBuf", 0 }, { "=runtime.bulkBarrierPreWrite", 0 }, { "^runtime.(*gcWork)", 0 },
	{ "^runtime.(*mspan).sweep", 0 }, { "^runtime.gcMarkDone", 0 }, { "=runtime.gcMarkTermination", 0 },
	{ "~v8::internal::Scavenger", 1 }, { "~v8::internal::MarkCompactCollector", 1 },
	{ "~v8::internal::Heap::CollectGarbage", 1 }, { "~v8::internal::Heap::PerformGarbageCollection", 1 },
	{ "~v8::internal::ConcurrentMarking", 1 }, { "~v8::internal::IncrementalMarking", 1 },
	{ "~v8::internal::MinorMarkCompact", 1 }, { "~v8::internal::ScavengerCollector", 1 },
	{ "=(garbage collector)", 1 }, { "~v8::internal::MarkingVisitor", 1 }, { "~v8::internal::Sweeper", 1 },
	{ "^gc_collect", 2 }, { "=collect_generations", 2 }, { "=subtract_refs", 2 }, { "=update_refs", 2 },
	{ "=move_unreachable", 2 }, { "=visit_decref", 2 }, { "=visit_reachable", 2 }, { "=_PyGC_Collect", 2 },
	{ "=gc_collect_main", 2 }, { "=deduce_unreachable", 2 }, { "=PyGC_Collect", 2 },
	{ "^G1", 3 }, { "~G1CollectedHeap", 3 }, { "^PSScavenge", 3 }, { "^PSParallelCompact", 3 },
	{ "^ParallelScavenge", 3 }, { "^GCTaskThread", 3 }, { "^ZHeap", 3 }, { "^ZMark", 3 }, { "^ZRelocate", 3 },
	{ "^Shenandoah", 3 }, { "^GenCollectedHeap", 3 }, { "^VM_GenCollect", 3 }, { "^VM_G1", 3 },
	{ "^DefNewGeneration", 3 }, { "^TenuredGeneration", 3 }, { "^CardTable", 3 }, { "^OopMapSet::", 3 },
	{ "^gc_mark", 4 }, { "^gc_sweep", 4 }, { "^rb_gc", 4 }, { "^garbage_collect", 4 },
	{ NULL, 0 },
};

static const char *const gc_advice[] = {
	"The Go garbage collector is busy: allocate less (see the callers), and if memory allows raise GOGC or set "
	"a GOMEMLIMIT so collections run less often.",
	"V8's garbage collector is busy: create fewer short-lived objects, avoid growing arrays element by element, "
	"and if memory allows raise --max-semi-space-size for the young generation.",
	"CPython's cyclic garbage collector is busy: create fewer container objects, break reference cycles, call "
	"gc.freeze() after start-up, or raise the thresholds with gc.set_threshold().",
	"The JVM's garbage collector is busy: allocate less, size the heap and young generation for the workload "
	"(-Xmx, -Xmn), and check the GC logs (-Xlog:gc) for premature promotion.",
	"The Ruby garbage collector is busy: allocate fewer objects (frozen string literals, reuse), or tune "
	"RUBY_GC_HEAP_* variables.",
	NULL,
};

static const struct rule_pattern memcpy_pats[] = {
	{ "^memcpy", 0 }, { "^__memcpy", 0 }, { "^memmove", 0 }, { "^__memmove", 0 }, { "^memset", 0 },
	{ "^__memset", 0 }, { "=bcopy", 0 }, { "^__GI_memcpy", 0 }, { "^__GI_memmove", 0 }, { "^__GI_memset", 0 },
	{ "^copy_user", 1 }, { "^copy_to_user", 1 }, { "^_copy_to_user", 1 }, { "^copy_from_user", 1 },
	{ "^_copy_from_user", 1 }, { "^__copy_user", 1 }, { "=rep_movs_alternative", 1 }, { "^copy_page", 1 },
	{ "^copyout", 1 }, { "^copyin", 1 }, { "=copy_user_enhanced_fast_string", 1 },
	{ "=runtime.memmove", 0 }, { "=runtime.memclrNoHeapPointers", 0 }, { "=runtime.typedmemmove", 0 },
	{ "=runtime.memclrHasPointers", 0 }, { "=runtime.typedslicecopy", 0 },
	{ "~arraycopy", 0 }, { "~Arrays.copyOf", 0 },
	{ NULL, 0 },
};

static const char *const memcpy_advice[] = {
	"Copy less: pass pointers, references, views or slices instead of copies, move instead of copy, build data "
	"in place in its final buffer, and avoid clearing memory that is about to be overwritten.",
	"Much time goes to copying between the kernel and user space: use larger but fewer reads and writes, or "
	"zero-copy interfaces (sendfile, splice, mmap, io_uring with registered buffers).",
	NULL,
};

static const struct rule_pattern lock_pats[] = {
	{ "^pthread_mutex_lock", 0 }, { "^pthread_mutex_unlock", 0 }, { "^__pthread_mutex_lock", 0 },
	{ "^___pthread_mutex_lock", 0 }, { "^__pthread_mutex_unlock", 0 }, { "^pthread_mutex_trylock", 0 },
	{ "^pthread_rwlock_", 0 }, { "^__pthread_rwlock_", 0 }, { "^pthread_spin_", 0 }, { "^pthread_cond_", 0 },
	{ "^__pthread_cond_", 0 }, { "^___pthread_cond_", 0 }, { "^__lll_lock_wait", 0 },
	{ "^__lll_unlock_wake", 0 }, { "^__GI___lll_lock", 0 }, { "^futex_", 0 }, { "^__futex", 0 },
	{ "=do_futex", 0 }, { "=sys_futex", 0 }, { "=SyS_futex", 0 }, { "^__x64_sys_futex", 0 }, { "^__se_sys_futex", 0 }, { "^__arm64_sys_futex", 0 },
	{ "^std::mutex::", 0 }, { "^std::__mutex_base", 0 }, { "^std::shared_mutex", 0 },
	{ "^std::condition_variable::wait", 0 }, { "~absl::Mutex::", 0 },
	{ "^_raw_spin_lock", 1 }, { "^_raw_read_lock", 1 }, { "^_raw_write_lock", 1 },
	{ "^native_queued_spin_lock_slowpath", 1 }, { "^queued_spin_lock_slowpath", 1 },
	{ "^__pv_queued_spin_lock_slowpath", 1 }, { "^queued_read_lock_slowpath", 1 },
	{ "^queued_write_lock_slowpath", 1 }, { "^__mutex_lock", 1 }, { "=mutex_lock", 1 }, { "^rwsem_down", 1 },
	{ "=osq_lock", 1 }, { "^down_read", 1 }, { "^down_write", 1 },
	{ "=take_gil", 2 }, { "=drop_gil", 2 }, { "^PyThread_acquire_lock", 2 }, { "^_PyMutex_Lock", 2 },
	{ "^PyMUTEX_LOCK", 2 }, { "=PyCOND_TIMEDWAIT", 2 }, { "^_PyEval_EvalFrameDefault.cold.take_gil", 2 },
	{ "=runtime.lock", 3 }, { "=runtime.lock2", 3 }, { "=runtime.unlock2", 3 }, { "^sync.(*Mutex).", 3 },
	{ "^sync.(*RWMutex).", 3 }, { "=runtime.semacquire1", 3 }, { "^sync.runtime_Semacquire", 3 },
	{ "^sync.runtime_SemacquireMutex", 3 }, { "=runtime.futex", 3 }, { "=runtime.futexsleep", 3 },
	{ "=runtime.futexwakeup", 3 }, { "^internal/sync.(*Mutex)", 3 },
	{ "~ObjectMonitor::", 4 }, { "^Unsafe_Park", 4 }, { "~java.util.concurrent.locks", 4 },
	{ "~LockSupport.park", 4 }, { "~ObjectSynchronizer::", 4 }, { "~Monitor::wait", 4 },
	{ NULL, 0 },
};

static const char *const lock_advice[] = {
	"Threads contend for locks: hold them for less time (no I/O or allocation inside), split hot locks "
	"(per-shard or per-thread data), use read-write locks for read-mostly data or lock-free counters; the "
	"callers show which lock sites are hot.",
	"The kernel spins on contended locks: find the system call or kernel path that takes them (see the "
	"callers) and reduce concurrent access to the same file, socket, mm or device.",
	"Python threads fight over the GIL: move CPU-bound work to processes (multiprocessing, "
	"concurrent.futures.ProcessPoolExecutor) or to C extensions that release the GIL.",
	"Goroutines contend for mutexes or the scheduler: shard the protected data, use sync/atomic or channels "
	"with less sharing, and check 'go test -mutexprofile'.",
	"Java threads contend for monitors or locks: narrow synchronized blocks, use java.util.concurrent "
	"structures (ConcurrentHashMap, LongAdder), or reduce sharing between threads.",
	NULL,
};

static const struct rule_pattern syscall_pats[] = {
	{ "^entry_SYSCALL", 0 }, { "=do_syscall_64", 0 }, { "=system_call_fastpath", 0 }, { "=system_call", 0 },
	{ "=tracesys", 0 }, { "^ia32_sysenter", 0 }, { "^sysenter_", 0 }, { "^__x64_sys_", 0 }, { "^__arm64_sys_", 0 },
	{ "^__do_sys_", 0 }, { "^__se_sys_", 0 }, { "=el0_svc", 0 }, { "^el0_svc_common", 0 },
	{ "=syscall", 0 }, { "^syscall.Syscall", 1 }, { "^syscall.RawSyscall", 1 }, { "^syscall.syscall", 1 },
	{ "=runtime.syscall", 1 }, { "^internal/runtime/syscall.Syscall", 1 },
	{ "^runtime/internal/syscall.Syscall", 1 },
	{ NULL, 0 },
};

static const char *const syscall_advice[] = {
	"Much time goes into system calls: batch them (larger reads and writes, writev/readv, sendmmsg, epoll "
	"instead of polling), cache results (stat, getpid, time: use clock_gettime's vDSO), and check what the "
	"callers ask the kernel for with 'strace -c'.",
	"Go code spends much time in system calls: batch I/O through bufio, avoid per-item syscalls, and check "
	"'strace -c -f' for the most frequent calls.",
	NULL,
};

static const struct rule_pattern io_pats[] = {
	{ "=vfs_read", 0 }, { "=vfs_write", 0 }, { "=ksys_read", 0 }, { "=ksys_write", 0 },
	{ "=__x64_sys_read", 0 }, { "=__x64_sys_write", 0 }, { "=__x64_sys_pread64", 0 },
	{ "=__x64_sys_pwrite64", 0 }, { "=__x64_sys_readv", 0 }, { "=__x64_sys_writev", 0 },
	{ "=__arm64_sys_read", 0 }, { "=__arm64_sys_write", 0 }, { "=sys_read", 0 }, { "=sys_write", 0 },
	{ "=SyS_read", 0 }, { "=SyS_write", 0 }, { "=sys_pread64", 0 }, { "=sys_pwrite64", 0 }, { "=__libc_write", 0 }, { "=__libc_read", 0 },
	{ "=__GI___libc_write", 0 }, { "=__GI___libc_read", 0 }, { "=write", 0 }, { "=read", 0 },
	{ "=__write", 0 }, { "=__read", 0 }, { "=__write_nocancel", 0 }, { "=__read_nocancel", 0 },
	{ "=pread64", 0 }, { "=pwrite64", 0 }, { "=__pread64", 0 }, { "=__pwrite64", 0 },
	{ "^_IO_new_file_write", 0 }, { "^_IO_file_write", 0 }, { "=new_do_write", 0 }, { "^_IO_new_do_write", 0 },
	{ "^_IO_do_write", 0 }, { "^_IO_file_xsgetn", 0 }, { "=fsync", 2 }, { "=fdatasync", 2 },
	{ "=__x64_sys_fsync", 2 }, { "=__x64_sys_fdatasync", 2 }, { "=do_fsync", 2 },
	{ "^os.(*File).Write", 1 }, { "^os.(*File).Read", 1 }, { "^internal/poll.(*FD).Write", 1 },
	{ "^internal/poll.(*FD).Read", 1 }, { "=syscall.write", 1 }, { "=syscall.read", 1 },
	{ "=syscall.Write", 1 }, { "=syscall.Read", 1 }, { "^os.(*File).Sync", 2 },
	{ "^_Py_write", 0 }, { "^_Py_read", 0 }, { "=os_write", 0 }, { "=os_read", 0 }, { "=os_write_impl", 0 },
	{ "^uv__fs_write", 0 }, { "^uv__fs_read", 0 }, { "~FileOutputStream.write", 0 },
	{ "~FileInputStream.read", 0 }, { "~RandomAccessFile.", 0 },
	{ NULL, 0 },
};

static const char *const io_advice[] = {
	"Reads and writes go to the kernel in small pieces: buffer them (stdio with a large setvbuf buffer, a "
	"BufferedWriter/BufferedReader, or your own buffer) and flush once per batch, not per record.",
	"Go I/O goes to the kernel in small pieces: wrap files and sockets in bufio.Writer/bufio.Reader and flush "
	"once per batch.",
	"Time goes into forcing data to disk (fsync): sync once per batch or transaction, not per write, or use "
	"group commit.",
	NULL,
};

static const struct rule_pattern fault_pats[] = {
	{ "^asm_exc_page_fault", 0 }, { "=exc_page_fault", 0 }, { "=page_fault", 0 }, { "^do_page_fault", 0 },
	{ "^__do_page_fault", 0 }, { "^do_user_addr_fault", 0 }, { "^handle_mm_fault", 0 },
	{ "^__handle_mm_fault", 0 }, { "^handle_pte_fault", 0 }, { "^do_anonymous_page", 0 },
	{ "^do_huge_pmd_anonymous_page", 0 }, { "=do_fault", 0 }, { "^do_read_fault", 0 }, { "^do_cow_fault", 0 },
	{ "^do_wp_page", 0 }, { "^wp_page_copy", 0 }, { "=filemap_fault", 1 }, { "^do_sync_mmap_readahead", 1 },
	{ "^el0_da", 0 }, { "^do_mem_abort", 0 },
	{ NULL, 0 },
};

static const char *const fault_advice[] = {
	"Page faults are expensive here: touch fresh memory less often (reuse buffers instead of mapping and "
	"freeing them, raise M_MMAP_THRESHOLD / M_TRIM_THRESHOLD or use a caching allocator), pre-fault with "
	"MAP_POPULATE or madvise, or use transparent huge pages for large heaps.",
	"Page faults read file-backed pages: the data is not in the page cache or mapped lazily; read it "
	"sequentially with madvise(MADV_SEQUENTIAL/WILLNEED) or use read() into a reused buffer.",
	NULL,
};

static const struct rule_pattern serial_pats[] = {
	{ "%json", 0 }, { "~jackson", 0 }, { "~Jackson", 0 },
	{ "~protobuf", 1 }, { "~proto.Marshal", 1 }, { "~proto.Unmarshal", 1 }, { "^protobuf_c_", 1 },
	{ "~google::protobuf", 1 }, { "~flatbuffers", 1 }, { "~capnp::", 1 },
	{ "%xml", 2 }, { "%yaml", 2 }, { "~msgpack", 2 }, { "~pickle", 2 }, { "~encoding/gob", 2 },
	{ "%marshal", 2 }, { "%serializ", 2 }, { "~ObjectOutputStream", 2 }, { "~ObjectInputStream", 2 },
	{ "~encoding/csv", 2 }, { "~bson", 2 }, { "~avro", 2 },
	{ NULL, 0 },
};

static const char *const serial_advice[] = {
	"JSON encoding/decoding is a large cost: parse once and keep the result, decode only the fields you need "
	"(streaming or lazy parsing), reuse encoders/buffers, or use a faster library (simdjson, orjson, "
	"jsoniter) or a binary format between your own services.",
	"Protocol buffer (de)serialization is a large cost: avoid decoding messages you only forward, reuse "
	"message objects and arenas, and keep large repeated fields packed.",
	"Serialization is a large cost: serialize less often (cache the encoded form), use a streaming or "
	"schema-compiled codec, and avoid reflection-based marshalling in hot paths.",
	NULL,
};

static const struct rule_pattern regex_pats[] = {
	{ "^regexec", 0 }, { "^regcomp", 0 }, { "^re_search", 0 }, { "^re_compile", 0 }, { "^re_match", 0 },
	{ "^re_string_", 0 }, { "^re_node_set", 0 }, { "=build_trtable", 0 }, { "=check_matching", 0 },
	{ "=transit_state", 0 }, { "~std::__detail::_Executor", 0 }, { "~std::__detail::_Compiler", 0 },
	{ "~std::__detail::_Scanner", 0 }, { "~std::basic_regex", 0 }, { "~std::regex_", 0 },
	{ "~boost::re_detail", 0 }, { "^pcre", 0 }, { "^_pcre", 0 }, { "~re2::", 0 }, { "^onig_", 0 },
	{ "^hs_scan", 0 }, { "^regexp.", 1 }, { "^regexp/syntax.", 1 }, { "^sre_", 2 }, { "^_sre_", 2 },
	{ "~SRE(", 2 }, { "=pattern_search", 2 }, { "=pattern_match", 2 }, { "=pattern_subx", 2 },
	{ "~java.util.regex", 0 }, { "~RegExp", 3 }, { "~Regex", 0 },
	{ NULL, 0 },
};

static const char *const regex_advice[] = {
	"Regular expressions are a large cost: compile each pattern once and reuse it, anchor patterns, avoid "
	"backtracking constructs (nested quantifiers), and use plain string functions (prefix tests, strchr, "
	"memmem) where a regex is not needed.",
	"Go regexps are a large cost: compile once with regexp.MustCompile at package level, prefer "
	"strings.Contains/HasPrefix for literal matches, and match on []byte to avoid conversions.",
	"Python regular expressions are a large cost: precompile with re.compile outside loops, prefer str "
	"methods (startswith, in, split) for literal matches, and avoid catastrophic backtracking.",
	"JavaScript regular expressions are a large cost: hoist RegExp literals out of loops, avoid backtracking "
	"patterns, and use string methods (startsWith, includes, indexOf) for literal matches.",
	NULL,
};

static const struct rule_pattern format_pats[] = {
	{ "^vfprintf", 0 }, { "^__vfprintf", 0 }, { "^_IO_vfprintf", 0 }, { "^__printf_fp", 0 },
	{ "^printf_positional", 0 }, { "^__vsnprintf", 0 }, { "=vsnprintf", 0 }, { "=snprintf", 0 },
	{ "=sprintf", 0 }, { "=printf", 0 }, { "=fprintf", 0 }, { "^__vsprintf", 0 }, { "=vsprintf", 0 },
	{ "^__printf_chk", 0 }, { "^__fprintf_chk", 0 }, { "^__sprintf_chk", 0 }, { "^__snprintf_chk", 0 },
	{ "^__vsnprintf_chk", 0 }, { "^__vfprintf_chk", 0 }, { "^__vsprintf_chk", 0 }, { "^_itoa_word", 0 },
	{ "^__printf_buffer", 0 }, { "^__strtod", 0 }, { "^____strtod", 0 }, { "=strtod", 0 },
	{ "^__strtol", 0 }, { "^____strtol", 0 }, { "=strtol", 0 }, { "=strtoul", 0 }, { "=atoi", 0 },
	{ "=atof", 0 }, { "^__GI_____strtol", 0 }, { "^round_and_return", 0 }, { "^str_to_mpn", 0 },
	{ "^fmt.Sprint", 1 }, { "^fmt.Fprint", 1 }, { "^fmt.Print", 1 }, { "^fmt.(*pp).", 1 },
	{ "^fmt.Errorf", 1 }, { "^fmt.(*fmt).", 1 }, { "^strconv.", 1 },
	{ "~std::__cxx11::basic_ostringstream", 2 }, { "~std::basic_ostream", 2 }, { "~std::ostream::", 2 },
	{ "~std::__ostream_insert", 2 }, { "~std::num_put", 2 }, { "~std::__cxx11::to_string", 2 },
	{ "^std::to_string", 2 }, { "~std::__cxx11::basic_stringstream", 2 }, { "^fmt::v", 2 },
	{ "~std::__format::", 2 }, { "~std::locale::", 2 },
	{ "=PyUnicode_Format", 3 }, { "^PyUnicode_FromFormat", 3 }, { "^_PyUnicode_Format", 3 },
	{ "^unicode_format", 3 }, { "=do_string_format", 3 }, { "^_PyUnicodeWriter", 3 }, { "^PyOS_double_to", 3 },
	{ "^format_float_short", 3 }, { "^PyOS_string_to_double", 3 }, { "~java.lang.String.format", 4 },
	{ "~java.util.Formatter", 4 }, { "~StringBuilder.append", 4 }, { "~AbstractStringBuilder", 4 },
	{ NULL, 0 },
};

static const char *const format_advice[] = {
	"Formatting and parsing numbers and strings is a large cost: avoid printf-family calls in hot loops "
	"(write integers with a hand-rolled or to_chars conversion, build output with memcpy into one buffer), "
	"and parse with strtol/from_chars once instead of repeatedly.",
	"Go string formatting is a large cost: replace fmt.Sprintf in hot paths with strconv.Append* into a "
	"reused []byte or a strings.Builder, and avoid fmt for simple concatenation.",
	"C++ stream formatting is a large cost: avoid std::ostringstream and std::to_string in loops; use "
	"std::to_chars / std::format_to into a reused buffer.",
	"Python string formatting is a large cost: build strings with ''.join over a list, use f-strings, and "
	"avoid formatting values that are never printed (lazy logging arguments).",
	"Java string formatting is a large cost: avoid String.format in hot paths, reuse a StringBuilder with a "
	"capacity, and log with parameterized messages.",
	NULL,
};

static const struct rule_pattern hash_pats[] = {
	{ "%md5", 1 }, { "%sha1", 1 }, { "%sha256", 1 }, { "%sha512", 1 }, { "%sha3", 1 }, { "%blake2", 1 },
	{ "%crc32", 1 }, { "^SHA", 1 }, { "^EVP_Digest", 1 }, { "^crypto/sha", 1 }, { "^crypto/md5", 1 },
	{ "%hash", 0 }, { "^runtime.mapaccess", 0 }, { "^runtime.mapassign", 0 }, { "^runtime.mapdelete", 0 },
	{ "~internal/runtime/maps.", 0 }, { "^lookdict", 0 }, { "^_PyDict_", 0 }, { "=dict_subscript", 0 },
	{ "^PyDict_GetItem", 0 }, { "^PyDict_SetItem", 0 }, { "=insertdict", 0 }, { "^dict_ass_sub", 0 },
	{ "~std::_Hashtable", 0 }, { "~unordered_map", 0 }, { "~unordered_set", 0 }, { "%xxh", 0 },
	{ "%murmur", 0 }, { "%siphash", 0 }, { "%fnv1", 0 }, { "~absl::container_internal::raw_hash", 0 },
	{ "~HashMap.", 0 }, { "~v8::internal::Dictionary", 0 }, { "~LookupIterator", 0 },
	{ NULL, 0 },
};

static const char *const hash_advice[] = {
	"Hashing and hash-table lookups are a large cost: look each key up once (keep the iterator or value), "
	"reserve capacity to avoid rehashing, use a cheaper hash for trusted keys, intern or pre-hash string keys, "
	"or use an array indexed by a small integer id instead of a map.",
	"Cryptographic hashing or checksums are a large cost: hash less data (hash once and cache), use hardware-"
	"accelerated implementations (SHA-NI, crc32c instructions), or a non-cryptographic hash where security is "
	"not needed.",
	NULL,
};

static const struct rule_pattern sort_pats[] = {
	{ "^qsort", 0 }, { "=__qsort_r", 0 }, { "^msort_with_tmp", 0 }, { "=msort", 0 },
	{ "~std::sort", 0 }, { "~std::__sort", 0 }, { "~std::__introsort_loop", 0 }, { "~std::__insertion_sort", 0 },
	{ "~std::__unguarded_linear_insert", 0 }, { "~std::__adjust_heap", 0 }, { "~std::__final_insertion_sort", 0 },
	{ "~std::stable_sort", 0 }, { "~std::__stable_sort", 0 }, { "~std::__merge_adaptive", 0 },
	{ "~std::__move_median_to_first", 0 }, { "~std::__unguarded_partition", 0 }, { "~std::__heap_select", 0 },
	{ "~std::__partial_sort", 0 }, { "^sort.", 0 }, { "^slices.Sort", 0 }, { "^slices.pdqsort", 0 },
	{ "^slices.insertionSort", 0 }, { "^slices.heapSort", 0 }, { "~pdqsort", 0 }, { "=list_sort", 1 },
	{ "=list_sort_impl", 1 }, { "=count_run", 1 }, { "=merge_collapse", 1 }, { "=binarysort", 1 },
	{ "=merge_at", 1 }, { "=gallop_left", 1 }, { "=gallop_right", 1 }, { "=merge_lo", 1 }, { "=merge_hi", 1 },
	{ "=unsafe_object_compare", 1 }, { "=safe_object_compare", 1 }, { "^timsort", 0 }, { "~TimSort", 0 },
	{ "~Arrays.sort", 0 }, { "~DualPivotQuicksort", 0 }, { "~Collections.sort", 0 }, { "~ArrayPrototypeSort", 0 },
	{ "~ArrayTimSort", 0 },
	{ NULL, 0 },
};

static const char *const sort_advice[] = {
	"Sorting is a large cost: sort once and keep the data sorted (insert in place, or use an ordered "
	"structure), sort indices or keys instead of large records, use a partial sort or selection when only the "
	"top items are needed, and make the comparison function cheap.",
	"Python sorting is a large cost: use key= with a cheap key (operator.itemgetter) instead of cmp-style "
	"comparisons, sort once instead of repeatedly, or use heapq.nlargest for the top items.",
	NULL,
};

static const struct rule_pattern exc_pats[] = {
	{ "^_Unwind_", 0 }, { "^__cxa_throw", 0 }, { "^__cxa_allocate_exception", 0 }, { "^__cxa_begin_catch", 0 },
	{ "^__cxa_end_catch", 0 }, { "^__cxa_rethrow", 0 }, { "^__gxx_personality", 0 }, { "^uw_frame_state_for", 0 },
	{ "^uw_update_context", 0 }, { "^execute_cfa_program", 0 }, { "^search_object", 0 },
	{ "^_dl_find_object", 0 }, { "^unw_", 0 }, { "^_ULx86_64_", 0 }, { "^__backtrace", 0 }, { "=backtrace", 0 },
	{ "^runtime.gopanic", 1 }, { "^runtime.gorecover", 1 }, { "=runtime.Callers", 1 }, { "^runtime.callers", 1 },
	{ "^runtime.(*unwinder)", 1 }, { "=runtime.gentraceback", 1 }, { "=runtime.Stack", 1 },
	{ "~Throwable.fillInStackTrace", 2 }, { "~java.lang.Throwable.<init>", 2 },
	{ "^java_lang_Throwable::fill_in_stack_trace", 2 }, { "~JVM_FillInStackTrace", 2 },
	{ "~SharedRuntime::raw_exception_handler", 2 }, { "~OptoRuntime::handle_exception", 2 },
	{ "^_PyErr_", 3 }, { "^PyErr_", 3 }, { "^_PyTraceBack", 3 }, { "^PyTraceBack_", 3 },
	{ "~Error.captureStackTrace", 4 }, { "~v8::internal::Isolate::Throw", 4 },
	{ "~v8::internal::Isolate::CaptureSimpleStackTrace", 4 }, { "~v8::internal::ErrorUtils::", 4 },
	{ NULL, 0 },
};

static const char *const exc_advice[] = {
	"Exceptions and stack unwinding are a large cost: do not use exceptions for expected outcomes (return an "
	"error code, std::optional or std::expected), and avoid capturing backtraces on hot paths.",
	"Go panics or stack captures are a large cost: return errors instead of panicking, and avoid "
	"runtime.Callers/runtime.Stack (or errors packages that capture stacks) on hot paths.",
	"Java exceptions are a large cost, mostly building stack traces: do not use exceptions for control flow, "
	"or reuse exceptions / override fillInStackTrace for expected ones.",
	"Python exception handling is a large cost: test conditions instead of catching exceptions for expected "
	"cases (dict.get, 'in' tests), and keep try/except around fewer operations.",
	"JavaScript errors are a large cost, mostly capturing stack traces: do not throw for expected outcomes "
	"and lower Error.stackTraceLimit if errors are created often.",
	NULL,
};

static const struct rule_pattern interp_pats[] = {
	{ "^_PyEval_EvalFrameDefault", 1 }, { "=PyEval_EvalFrameEx", 1 }, { "=_PyEval_EvalFrame", 1 },
	{ "=PyEval_EvalFrameDefault", 1 }, { "=_PyEval_EvalCode", 1 }, { "=PyEval_EvalCodeEx", 1 },
	{ "^Builtins_InterpreterEntryTrampoline", 2 }, { "^Builtins_InterpreterEnterAtBytecode", 2 },
	{ "^Builtins_InterpreterPushArgs", 2 }, { "^v8::internal::interpreter::", 2 },
	{ "^BytecodeInterpreter::", 3 }, { "=Interpreter", 3 }, { "^TemplateInterpreter", 3 },
	{ "^InterpreterRuntime::", 3 }, { "=vm_exec_core", 0 }, { "=rb_vm_exec", 0 }, { "=luaV_execute", 0 },
	{ "=Perl_runops_standard", 0 }, { "^Perl_pp_", 0 }, { "=execute_ex", 0 }, { "^ZEND_", 0 },
	{ "=TclExecuteByteCode", 0 }, { "=process_main", 0 },
	{ NULL, 0 },
};

static const char *const interp_advice[] = {
	"The interpreter's dispatch loop itself is a large cost: move the hottest loops into native code or "
	"built-in operations that do more work per call, or use a JIT-enabled runtime.",
	"CPython's bytecode loop itself is a large cost: the work is many small Python operations; vectorize with "
	"NumPy, use built-ins (sum, map, comprehensions, str methods) that loop in C, move the hot function to "
	"Cython/C, or try PyPy; on Python >= 3.12 'perf' support (-X perf) shows the Python functions.",
	"V8 runs this code in its bytecode interpreter: it is not getting optimized; keep hot functions "
	"monomorphic (same argument types and object shapes) so that TurboFan compiles them, and check "
	"--trace-deopt.",
	"The JVM interprets this code: it has not been JIT-compiled yet (warm-up) or cannot be (check "
	"-XX:+PrintCompilation for 'made not entrant' and huge methods); measure after warm-up.",
	NULL,
};

static const char *const recursion_advice[] = {
	"Deep recursion costs a call and a stack frame per level and defeats inlining: turn it into a loop with "
	"an explicit stack, add memoization if the same subproblems recur, or cut the depth (tail calls, "
	"divide and conquer with a sequential base case).",
	/* interpreted code: no compiler to inline anything */
	"Deep recursion costs an interpreted call and a frame object per level (and runs into the recursion "
	"limit): turn it into a loop with an explicit stack or a work list, add memoization if the same "
	"subproblems recur (functools.lru_cache, a Map), or cut the depth.",
	NULL,
};

static const char *const tiny_advice[] = {
	"There is no single hotspot: the cost is spread over many small functions, which usually means call "
	"overhead and poor inlining; build with optimization, LTO (-flto) and profile-guided optimization "
	"(-fprofile-use / PGO), mark small hot helpers inline, and look at the inclusive (total) table for the "
	"subsystem to redesign.",
	NULL,
};

static const char *const hotspot_advice[] = {
	"Start here: look at its hottest source lines (kiln analyze --detailed, or perf annotate), at the "
	"algorithm's complexity and data layout, and at whether the callers can call it less often.",
	NULL,
};

/* ---- off-CPU, wall-clock and system-call profiles: why threads wait ---- */

static const struct rule_pattern lockwait_pats[] = {
	/* Preempted on the way (runqueue's frames): waiting for a CPU, not for this. */
	{ "^preempt_schedule", RULE_VETO }, { "=irqentry_exit_to_user_mode", RULE_VETO },
	{ "=exit_to_user_mode_loop", RULE_VETO }, { "=__cond_resched", RULE_VETO }, { "=_cond_resched", RULE_VETO },
	/* Waiting for threads to finish is not contention. */
	{ "^pthread_join", RULE_VETO }, { "^__pthread_join", RULE_VETO }, { "^___pthread_join", RULE_VETO },
	{ "^__pthread_clockjoin", RULE_VETO }, { "^pthread_clockjoin", RULE_VETO },
	{ "^pthread_timedjoin", RULE_VETO }, { "^__pthread_timedjoin", RULE_VETO }, { "^std::thread::join", RULE_VETO },
	{ "=runtime.stopm", RULE_VETO }, { "=runtime.notetsleepg", RULE_VETO },
	{ "^pthread_mutex_", 0 }, { "^__pthread_mutex_", 0 }, { "^___pthread_mutex_", 0 },
	{ "^__GI___pthread_mutex_", 0 }, { "^__lll_lock_wait", 0 }, { "^__GI___lll_lock_wait", 0 },
	{ "^pthread_rwlock_", 0 }, { "^__pthread_rwlock_", 0 }, { "^___pthread_rwlock_", 0 }, { "^std::mutex::", 0 },
	{ "^std::shared_mutex", 0 }, { "~absl::Mutex::", 0 },
	{ "^pthread_cond_", 1 }, { "^__pthread_cond_", 1 }, { "^___pthread_cond_", 1 },
	{ "^std::condition_variable::wait", 1 }, { "^sem_wait", 1 }, { "^__new_sem_wait", 1 }, { "^sem_timedwait", 1 },
	{ "^sync.(*Mutex).", 2 }, { "^sync.(*RWMutex).", 2 }, { "=runtime.semacquire1", 2 },
	{ "^sync.runtime_Semacquire", 2 }, { "^internal/sync.(*Mutex)", 2 }, { "=runtime.lock2", 2 },
	{ "~ObjectMonitor::", 3 }, { "^Unsafe_Park", 3 }, { "~LockSupport.park", 3 }, { "~ObjectSynchronizer::", 3 },
	{ "=take_gil", 4 }, { "^PyThread_acquire_lock", 4 },
	{ "^__mutex_lock", 5 }, { "=mutex_lock", 5 }, { "^rwsem_down", 5 }, { "^down_read", 5 }, { "^down_write", 5 },
	{ "=futex_wait", 0 }, { "^futex_wait_queue", 0 }, { "=futex_do_wait", 0 }, { "=__futex_wait", 0 },
	{ "=do_futex", 0 }, { "^__x64_sys_futex", 0 }, { "^__arm64_sys_futex", 0 }, { "^__se_sys_futex", 0 },
	{ "=futex", 0 },
	{ NULL, 0 },
};

static const char *const lockwait_advice[] = {
	"Threads block on contended locks (futex waits): hold locks for less time (no I/O, allocation or system "
	"calls inside), split hot locks (per-shard or per-thread data), use read-write locks for read-mostly data "
	"or atomics; the callers are the lock sites.",
	"Threads wait on condition variables or semaphores: idle workers waiting for work are harmless, but a "
	"producer/consumer hand-off on the hot path costs a wake-up per item: batch the items per hand-off, or "
	"give each thread its own work queue.",
	"Goroutines block on mutexes: shard the protected data, use sync/atomic or channels with less sharing, and "
	"look at 'go test -mutexprofile' / runtime.SetMutexProfileFraction for the lock sites.",
	"Java threads block on monitors or parked locks: narrow synchronized blocks, use java.util.concurrent "
	"structures (ConcurrentHashMap, LongAdder), or reduce sharing between threads.",
	"Python threads wait for the GIL or a lock: move CPU-bound work to processes (multiprocessing, "
	"ProcessPoolExecutor) or to C extensions that release the GIL.",
	"Threads sleep on contended kernel locks (mutexes, rw-semaphores such as mmap_lock): find the system call "
	"that takes them (see the callers) and reduce concurrent mmap/munmap, page faults or access to the same "
	"file from many threads.",
	NULL,
};

static const struct rule_pattern sleep_pats[] = {
	/* Preempted on the way (runqueue's frames): waiting for a CPU, not for this. */
	{ "^preempt_schedule", RULE_VETO }, { "=irqentry_exit_to_user_mode", RULE_VETO },
	{ "=exit_to_user_mode_loop", RULE_VETO }, { "=__cond_resched", RULE_VETO }, { "=_cond_resched", RULE_VETO },
	{ "=usleep", 0 }, { "=sleep", 0 }, { "=__sleep", 0 }, { "=nanosleep", 0 }, { "=__nanosleep", 0 },
	{ "=clock_nanosleep", 0 }, { "^__clock_nanosleep", 0 }, { "^__GI___clock_nanosleep", 0 },
	{ "^__GI___nanosleep", 0 }, { "^std::this_thread::sleep", 0 },
	{ "=time.Sleep", 1 }, { "=runtime.timeSleep", 1 }, { "=runtime.usleep", 1 },
	{ "=pysleep", 2 }, { "=time_sleep", 2 },
	{ "=do_nanosleep", 0 }, { "=hrtimer_nanosleep", 0 }, { "=common_nsleep", 0 }, { "^__x64_sys_nanosleep", 0 },
	{ "^__x64_sys_clock_nanosleep", 0 }, { "^__arm64_sys_nanosleep", 0 }, { "^__arm64_sys_clock_nanosleep", 0 },
	{ "=clock_nanosleep_time64", 0 },
	{ NULL, 0 },
};

static const char *const sleep_advice[] = {
	"Threads sleep on purpose (nanosleep, usleep): a sleep on the path of a request or a loop adds its full "
	"duration to the latency; wait for the event itself instead of polling with sleeps (a condition variable, "
	"poll/epoll on the descriptor, a timerfd), and remove or shorten fixed back-off delays.",
	"Goroutines sleep (time.Sleep): wait on a channel, a sync.Cond or a context instead of polling with "
	"sleeps, and check retry and back-off delays.",
	"Python code sleeps (time.sleep): wait for the event itself (queue.get, threading.Event, select/asyncio) "
	"instead of polling with sleeps, and check retry and back-off delays.",
	NULL,
};

static const struct rule_pattern iowait_pats[] = {
	/* Preempted on the way (runqueue's frames): waiting for a CPU, not for this. */
	{ "^preempt_schedule", RULE_VETO }, { "=irqentry_exit_to_user_mode", RULE_VETO },
	{ "=exit_to_user_mode_loop", RULE_VETO }, { "=__cond_resched", RULE_VETO }, { "=_cond_resched", RULE_VETO },
	{ "^pipe_read", 0 }, { "=anon_pipe_read", 0 }, { "^pipe_write", 0 }, { "=anon_pipe_write", 0 },
	{ "=pipe_wait", 0 }, { "=pipe_wait_readable", 0 }, { "=pipe_wait_writable", 0 }, { "=sock_recvmsg", 0 },
	{ "=sock_read_iter", 0 }, { "=tcp_recvmsg", 0 }, { "=tcp_recvmsg_locked", 0 }, { "=udp_recvmsg", 0 },
	{ "=unix_stream_read_generic", 0 }, { "=unix_stream_recvmsg", 0 }, { "=unix_dgram_recvmsg", 0 },
	{ "=sk_wait_data", 0 }, { "=sk_stream_wait_memory", 0 }, { "=sk_stream_wait_connect", 0 },
	{ "=__skb_wait_for_more_packets", 0 }, { "=inet_csk_accept", 0 }, { "=unix_wait_for_peer", 0 },
	{ "=n_tty_read", 0 }, { "=wait_woken", 0 },
	{ "=ep_poll", 1 }, { "=do_epoll_wait", 1 }, { "^__x64_sys_epoll_wait", 1 }, { "^__x64_sys_epoll_pwait", 1 },
	{ "=do_select", 1 }, { "=core_sys_select", 1 }, { "=do_sys_poll", 1 }, { "=do_poll", 1 },
	{ "^__x64_sys_poll", 1 }, { "^__x64_sys_ppoll", 1 }, { "^__x64_sys_select", 1 }, { "^__x64_sys_pselect", 1 },
	{ "=epoll_wait", 1 }, { "=epoll_pwait", 1 }, { "=epoll_pwait2", 1 }, { "=poll", 1 }, { "=ppoll", 1 },
	{ "=select", 1 }, { "=pselect6", 1 }, { "=runtime.netpoll", 1 },
	{ "=do_wait", 2 }, { "=kernel_wait4", 2 }, { "^__x64_sys_wait4", 2 }, { "^__x64_sys_waitid", 2 },
	{ "=wait4", 2 }, { "=waitid", 2 }, { "=waitpid", 2 }, { "=__waitpid", 2 },
	{ NULL, 0 },
};

static const char *const iowait_advice[] = {
	"Threads block reading from or writing to pipes and sockets, waiting for a peer: each round trip costs a "
	"wake-up and a context switch; send fewer, larger messages (batch requests, pipeline instead of "
	"request/response), or overlap the waits (non-blocking I/O, more requests in flight).",
	"Threads wait in poll/select/epoll: an event loop waiting for work is idle, not slow; if this wait is on a "
	"request's path, the time is spent by the peer or the network: look at the other side, or keep more "
	"requests in flight.",
	"Threads wait for child processes: the time is spent by the children (profile them: kiln follows forks); "
	"start fewer processes, or run independent ones in parallel.",
	NULL,
};

static const struct rule_pattern diskwait_pats[] = {
	/* Preempted on the way (runqueue's frames): waiting for a CPU, not for this. */
	{ "^preempt_schedule", RULE_VETO }, { "=irqentry_exit_to_user_mode", RULE_VETO },
	{ "=exit_to_user_mode_loop", RULE_VETO }, { "=__cond_resched", RULE_VETO }, { "=_cond_resched", RULE_VETO },
	{ "=fsync", 1 }, { "=fdatasync", 1 }, { "=sync_file_range", 1 }, { "=msync", 1 }, { "^__x64_sys_fsync", 1 },
	{ "^__x64_sys_fdatasync", 1 }, { "^__x64_sys_msync", 1 }, { "^__x64_sys_sync_file_range", 1 },
	{ "=do_fsync", 1 },
	{ "=vfs_fsync_range", 1 }, { "=ext4_sync_file", 1 }, { "=xfs_file_fsync", 1 }, { "=blkdev_fsync", 1 },
	{ "=file_write_and_wait_range", 1 }, { "^jbd2_log_wait_commit", 1 }, { "=jbd2_complete_transaction", 1 },
	{ "=io_schedule", 0 }, { "=io_schedule_timeout", 0 }, { "^folio_wait", 0 }, { "^__folio_lock", 0 },
	{ "^wait_on_page_bit", 0 }, { "=__lock_page", 0 }, { "^__wait_on_buffer", 0 }, { "=bit_wait_io", 0 },
	{ "^blk_mq_", 0 }, { "=submit_bio_wait", 0 }, { "^__filemap_fdatawait", 0 }, { "=filemap_fdatawait_range", 0 },
	{ "=io_wait_event", 0 }, { "=dio_await_completion", 0 }, { "=iomap_dio_rw", 0 },
	{ NULL, 0 },
};

static const char *const diskwait_advice[] = {
	"Threads wait for the disk (page cache misses, direct I/O, writeback): read sequentially and in larger "
	"blocks so that readahead works (posix_fadvise/madvise WILLNEED), keep the working set in memory, or issue "
	"the reads ahead of time in parallel (io_uring, a thread pool).",
	"Threads wait for data to reach the disk (fsync/fdatasync): sync once per batch or transaction, not per "
	"write (group commit), use fdatasync instead of fsync, or move the syncs off the request path.",
	NULL,
};

static const struct rule_pattern runq_pats[] = {
	{ "^preempt_schedule", 0 }, { "=irqentry_exit_to_user_mode", 0 }, { "=irqentry_exit", 0 },
	{ "=exit_to_user_mode_loop", 0 }, { "=__cond_resched", 0 }, { "=_cond_resched", 0 },
	{ "^raw_irqentry_exit_cond_resched", 0 },
	{ NULL, 0 },
};

static const char *const runq_advice[] = {
	"Threads were preempted and waited for a CPU: the machine has more runnable threads than CPUs (other "
	"processes, or more worker threads than cores); use as many busy threads as cores, lower the priority of "
	"background work, or give the program dedicated CPUs (taskset, cgroup cpusets).",
	NULL,
};

static const struct rule_pattern smallio_pats[] = {
	{ "=read", 0 }, { "=write", 0 }, { "=pread64", 0 }, { "=pwrite64", 0 }, { "=readv", 0 }, { "=writev", 0 },
	{ "=preadv", 0 }, { "=pwritev", 0 }, { "=preadv2", 0 }, { "=pwritev2", 0 }, { "=recvfrom", 0 },
	{ "=sendto", 0 }, { "=recvmsg", 0 }, { "=sendmsg", 0 },
	{ NULL, 0 },
};

static const char *const smallio_advice[] = {
	"One call site reads or writes in many small pieces, a system call each: buffer them (stdio with a large "
	"setvbuf buffer, a BufferedWriter/bufio.Writer, or your own buffer) and flush once per batch; gather "
	"scattered pieces with writev/readv.",
	NULL,
};

static const char *const repeated_advice[] = {
	"One call site makes the same cheap system call thousands of times (an N+1 pattern: the cost is the "
	"count, not the calls): do it once and reuse the result (stat, getpid, time, opening the same file), "
	"batch it (getdents64 with a large buffer, sendmmsg/recvmmsg, io_uring), or move it out of the loop; "
	"'strace -c -f' lists the calls.",
	NULL,
};

static const struct rule_pattern no_pats[] = { { NULL, 0 } };

const struct rule rule_catalogue[] = {
	{ "alloc", "Memory allocation", "memory allocation", RULE_UNDER, 5.0, alloc_pats, alloc_advice, RK_TIME },
	{ "gc", "Garbage collection", "garbage collection", RULE_UNDER, 5.0, gc_pats, gc_advice, RK_TIME },
	{ "memcpy", "Memory copies", "memory copies and fills", RULE_UNDER, 5.0, memcpy_pats, memcpy_advice, RK_TIME },
	{ "lock", "Lock contention", "locking and lock waits", RULE_UNDER, 5.0, lock_pats, lock_advice, RK_CPU },
	{ "io", "Unbuffered I/O", "read/write system calls", RULE_UNDER, 5.0, io_pats, io_advice, RK_TIME },
	{ "syscall", "System calls", "system calls", RULE_UNDER, 10.0, syscall_pats, syscall_advice, RK_TIME },
	{ "pagefault", "Page faults", "page-fault handling", RULE_UNDER, 5.0, fault_pats, fault_advice,
	  RK_TIME | RK_OFFCPU },
	{ "serialization", "Serialization", "serialization (JSON, protobuf, XML, ...)", RULE_UNDER, 5.0,
	  serial_pats, serial_advice, RK_TIME },
	{ "regex", "Regular expressions", "regular-expression matching", RULE_UNDER, 3.0, regex_pats,
	  regex_advice, RK_TIME },
	{ "format", "String formatting", "string formatting and number conversion", RULE_UNDER, 5.0, format_pats,
	  format_advice, RK_TIME },
	{ "hashing", "Hashing", "hashing and hash-table lookups", RULE_UNDER, 5.0, hash_pats, hash_advice, RK_TIME },
	{ "sort", "Sorting", "sorting", RULE_UNDER, 5.0, sort_pats, sort_advice, RK_TIME },
	{ "exceptions", "Exceptions and unwinding", "exception handling and stack unwinding", RULE_UNDER, 3.0,
	  exc_pats, exc_advice, RK_TIME },
	{ "interpreter", "Interpreter overhead", "the interpreter's dispatch loop (self time)", RULE_SELF, 10.0,
	  interp_pats, interp_advice, RK_TIME },
	{ "recursion", "Deep recursion", "deeply recursive calls", RULE_RECURSION, 5.0, no_pats, recursion_advice,
	  RK_TIME },
	{ "tiny-functions", "Many tiny functions", "functions that each take under 1%", RULE_TINY, 40.0, no_pats,
	  tiny_advice, RK_TIME },
	{ "hotspot", "Dominant hotspot", "one function's own code", RULE_HOTSPOT, 10.0, no_pats, hotspot_advice,
	  RK_TIME },
	{ "lock-wait", "Lock contention", "waiting for locks", RULE_UNDER, 5.0, lockwait_pats, lockwait_advice,
	  RK_WAIT | RK_SYSCALL },
	{ "sleep", "Sleeps on the hot path", "sleeping (nanosleep, usleep)", RULE_UNDER, 5.0, sleep_pats,
	  sleep_advice, RK_WAIT | RK_SYSCALL },
	{ "io-wait", "Waiting on I/O or peers", "waiting for pipes, sockets, events or child processes",
	  RULE_UNDER, 5.0, iowait_pats, iowait_advice, RK_WAIT | RK_SYSCALL },
	{ "disk-wait", "Waiting for the disk", "waiting for disk I/O", RULE_UNDER, 5.0, diskwait_pats,
	  diskwait_advice, RK_WAIT | RK_SYSCALL },
	{ "runqueue", "CPU contention", "waiting for a CPU after preemption", RULE_UNDER, 5.0, runq_pats,
	  runq_advice, RK_WAIT },
	{ "small-io", "Unbuffered I/O", "many small read/write calls", RULE_CALLS, 5.0, smallio_pats,
	  smallio_advice, RK_SYSCALL },
	{ "repeated-syscalls", "Repeated system calls", "system calls repeated many times from one call site",
	  RULE_CALLS, 5.0, no_pats, repeated_advice, RK_SYSCALL },
	{ NULL, NULL, NULL, 0, 0, NULL, NULL, 0 },
};

size_t rule_count(void)
{
	size_t n = 0;

	while (rule_catalogue[n].id)
		n++;
	return n;
}

