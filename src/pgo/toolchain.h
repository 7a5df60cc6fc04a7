/*
 * The compilers kiln pgo drives and the flags each needs. GCC: -fprofile-generate=DIR with atomic counter
 * updates and -dumpdir '' on compile-and-link commands, so that a program built with `-o inst` and rebuilt with
 * `-o app` finds its .gcda under the same name; -fprofile-use=DIR with coverage mismatches as warnings. Clang:
 * -fprofile-instr-generate=DIR/%m-%p.profraw, merged by llvm-profdata, used with -fprofile-instr-use.
 * The flags reach the build through wrapper scripts placed first on PATH and in CC/CXX.
 */
#ifndef KILN_PGO_TOOLCHAIN_H
#define KILN_PGO_TOOLCHAIN_H

struct err;

enum pgo_toolchain { PGO_GCC = 1, PGO_CLANG };
enum pgo_phase { PGO_GENERATE, PGO_USE };

struct pgo_tools {
	enum pgo_toolchain tc;
	char *cc;        /* absolute path of the C compiler, owned */
	char *cxx;       /* the C++ compiler beside it, owned; NULL when there is none */
	char *helper;    /* GCC: gcov-dump; Clang: llvm-profdata; of the compiler's version, owned */
};

const char *pgo_toolchain_name(enum pgo_toolchain tc);

/*
 * Finds the compiler: `cc` is "gcc", "clang", a command or a path, or NULL for $CC or else `cc`. It must
 * answer --version as GCC or Clang. Returns 0, or -1 with `e` set ("no C compiler 'x' found on PATH").
 */
int pgo_tools_find(struct pgo_tools *t, const char *cc, struct err *e);
void pgo_tools_release(struct pgo_tools *t);

/*
 * Writes ROOT/bin/{cc,gcc|clang,c++,g++|clang++}: scripts that run the compiler with the flags of `phase`
 * (`profile` is the generate directory or the profile to use) and log each compilation of a source file to
 * ROOT/compiles.log. Returns 0, or -1 with `e` set.
 */
int pgo_write_wrappers(const char *root, const struct pgo_tools *t, enum pgo_phase phase, const char *profile,
		       struct err *e);

/*
 * Runs llvm-profdata (of the installed Clang when there is one) on a sample profile: `merge --sample` to
 * `out` with `format_flag` ("--extbinary", "--gcc", ... or NULL for text) when `out` is non-NULL, else `show
 * --sample` to check that it parses. Returns 1 when it succeeded, 0 when llvm-profdata is not installed, -1
 * with `e` set to its first error line.
 */
int pgo_llvm_sample_tool(const char *in, const char *out, const char *format_flag, struct err *e);

/* The flags of a phase as one space-separated string for CFLAGS-style variables; the caller frees it. */
char *pgo_flags(const struct pgo_tools *t, enum pgo_phase phase, const char *profile, int link);

#endif
