// fstool: static helper for the shared-filesystem e2e tests and benchmark (guest side and
// natively in the test host). Every result line is deterministic unless it is a measurement.
//
//   fstool try OP ARGS...          run one syscall, print "OP ok" or "OP <ERRNO-NAME>"
//       OPs: open-r F, open-w F, open-trunc F, creat-excl F, mkdir D, rmdir D, unlink F,
//            rename A B, rename-noreplace A B, rename-exchange A B, link A B, symlink T L,
//            chmod F MODE(octal), chown F UID GID, truncate F LEN, utimes F, mknod-c F MAJ MIN,
//            mkfifo F, setxattr F NAME VALUE, getxattr F NAME, removexattr F NAME, listxattr F,
//            setcap F (security.capability: cap_net_raw+ep, as `setcap` writes it)
//       xattr values that are not printable text are printed as hex.
//   fstool xattr-list F            sorted xattr names (user./trusted./security.) with their values
//   fstool gen F MIB               write MIB MiB of a deterministic pattern (1 MiB writes)
//   fstool gen - MIB               the same pattern to stdout
//   fstool hash F                  FNV-1a 64 of the file read with read(2) and with mmap(2)
//   fstool fsync F                 write, fsync, fdatasync, fsync of the parent directory
//   fstool unlinked F              open, unlink, then stat/fstat/read/write through the fd
//   fstool mkfiles D N             create N empty files D/fNNNNN-entry-name
//   fstool names D                 every entry name of D (with . and ..), sorted, from
//                                  getdents alone: no stat per entry (ls stats every one,
//                                  three requests each on a 9p cache=none mount)
//   fstool rmfiles D               unlink every entry of D but . and .. (names read first)
//   fstool as UID GID SUBCOMMAND ARGS...  setgid/setuid, then run an fstool subcommand
//   fstool race D SECONDS          rename race: swap D/sw between a real dir and symlinks to
//                                  outside paths while reading D/sw/inside; report counts
//   fstool bench-seq F MIB         sequential write then (after drop_caches) read, MiB/s
//   fstool bench-rand F N          N random 4 KiB preads of F, IOPS
//   fstool bench-meta D N          N x (create, fstat, close, stat, unlink), ops/s
//   fstool mktree D N              N small files (200 B to 16 KiB) in D/dNNN/, 100 per
//                                  directory: the source of the untar workload
//   fstool timeit CMD ARGS...      run CMD, print "seconds=S rc=RC"
//   fstool bench-build D ROUNDS    a compiler's file pattern over every file under D, ROUNDS
//                                  times: stat a missing sibling (an include-path miss), then
//                                  open, read to the end, close; opens/s
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <ftw.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/capability.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <time.h>
#include <unistd.h>

static const char* ename(int e) {
#define N(x) \
  { x, #x }
  static const struct {
    int e;
    const char* name;
  } names[] = {N(EPERM),     N(ENOENT), N(EIO),     N(ENXIO),      N(EBADF),        N(EACCES),
               N(EBUSY),     N(EEXIST), N(EXDEV),   N(ENODEV),     N(ENOTDIR),      N(EISDIR),
               N(EINVAL),    N(ENOSPC), N(EROFS),   N(EMLINK),     N(ENAMETOOLONG), N(ENOSYS),
               N(ENOTEMPTY), N(ELOOP),  N(ENODATA), N(EOPNOTSUPP), N(ETXTBSY),      N(EFBIG),
               N(E2BIG),     N(ERANGE), N(EFAULT),  N(ENOTTY),     N(ESTALE)};
#undef N
  for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
    if (names[i].e == e) return names[i].name;
  static char buf[32];
  snprintf(buf, sizeof buf, "errno%d", e);
  return buf;
}

static int report(const char* op, int rc) {
  if (rc < 0)
    printf("%s %s\n", op, ename(errno));
  else
    printf("%s ok\n", op);
  return rc < 0;
}

// An xattr value as text, or as hex when it holds anything else (file capabilities).
static void print_value(const char* v, ssize_t n) {
  int text = 1;
  for (ssize_t i = 0; i < n; i++)
    if (v[i] < 0x20 || v[i] > 0x7e) text = 0;
  if (text) {
    printf("%.*s", (int)n, v);
    return;
  }
  printf("0x");
  for (ssize_t i = 0; i < n; i++) printf("%02x", (unsigned char)v[i]);
}

static int do_try(int argc, char** argv) {
  if (argc < 2) return 2;
  const char *op = argv[0], *a = argv[1], *b = argc > 2 ? argv[2] : NULL;
  int rc;
  if (!strcmp(op, "open-r") || !strcmp(op, "open-w") || !strcmp(op, "open-trunc")) {
    int fl = !strcmp(op, "open-r")   ? O_RDONLY
             : !strcmp(op, "open-w") ? O_WRONLY
                                     : O_WRONLY | O_TRUNC;
    rc = open(a, fl | O_CLOEXEC);
    if (rc >= 0 && fl != O_RDONLY) {
      // Writing through the fd is part of "write": a read-only share must not take it.
      int w = write(rc, "x", 1);
      if (w < 0) {
        int e = errno;
        close(rc);
        errno = e;
        rc = -1;
      }
    }
    if (rc >= 0) close(rc);
  } else if (!strcmp(op, "creat-excl")) {
    rc = open(a, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0644);
    if (rc >= 0) close(rc);
  } else if (!strcmp(op, "mkdir"))
    rc = mkdir(a, 0755);
  else if (!strcmp(op, "rmdir"))
    rc = rmdir(a);
  else if (!strcmp(op, "unlink"))
    rc = unlink(a);
  else if (!strcmp(op, "rename") && b)
    rc = rename(a, b);
  else if (!strcmp(op, "rename-noreplace") && b)
    rc = renameat2(AT_FDCWD, a, AT_FDCWD, b, RENAME_NOREPLACE);
  else if (!strcmp(op, "rename-exchange") && b)
    rc = renameat2(AT_FDCWD, a, AT_FDCWD, b, RENAME_EXCHANGE);
  else if (!strcmp(op, "link") && b)
    rc = link(a, b);
  else if (!strcmp(op, "symlink") && b)
    rc = symlink(a, b);
  else if (!strcmp(op, "chmod") && b)
    rc = chmod(a, strtol(b, NULL, 8));
  else if (!strcmp(op, "chown") && argc > 3)
    rc = chown(a, atoi(b), atoi(argv[3]));
  else if (!strcmp(op, "truncate") && b)
    rc = truncate(a, atoll(b));
  else if (!strcmp(op, "utimes")) {
    struct timespec ts[2] = {{981173106, 0}, {981173106, 0}};
    rc = utimensat(AT_FDCWD, a, ts, 0);
  } else if (!strcmp(op, "mknod-c") && argc > 3)
    rc = mknod(a, S_IFCHR | 0666, makedev(atoi(b), atoi(argv[3])));
  else if (!strcmp(op, "mkfifo"))
    rc = mkfifo(a, 0644);
  else if (!strcmp(op, "setxattr") && argc > 3)
    rc = setxattr(a, b, argv[3], strlen(argv[3]), 0);
  else if (!strcmp(op, "setcap")) {
    struct vfs_cap_data d = {0};
    d.magic_etc = VFS_CAP_REVISION_2 | VFS_CAP_FLAGS_EFFECTIVE;
    d.data[0].permitted = 1u << CAP_NET_RAW;
    rc = setxattr(a, "security.capability", &d, XATTR_CAPS_SZ_2, 0);
  } else if (!strcmp(op, "removexattr") && b)
    rc = removexattr(a, b);
  else if (!strcmp(op, "getxattr") && b) {
    char v[256];
    ssize_t n = getxattr(a, b, v, sizeof v - 1);
    if (n >= 0) {
      printf("getxattr %s=", b);
      print_value(v, n);
      printf("\n");
      return 0;
    }
    rc = -1;
  } else if (!strcmp(op, "listxattr")) {
    char v[4096];
    rc = listxattr(a, v, sizeof v) < 0 ? -1 : 0;
  } else {
    fprintf(stderr, "fstool: unknown try op %s\n", op);
    return 2;
  }
  return report(op, rc);
}

static int cmpstr(const void* x, const void* y) {
  return strcmp(*(char* const*)x, *(char* const*)y);
}

static int do_xattr_list(const char* f) {
  char buf[8192];
  ssize_t n = listxattr(f, buf, sizeof buf);
  if (n < 0) {
    printf("listxattr %s\n", ename(errno));
    return 1;
  }
  char* names[256];
  int k = 0;
  for (char* p = buf; p < buf + n && k < 256; p += strlen(p) + 1)
    if (!strncmp(p, "user.", 5) || !strncmp(p, "trusted.", 8) || !strncmp(p, "security.", 9))
      names[k++] = p;
  qsort(names, k, sizeof *names, cmpstr);
  printf("xattrs %d\n", k);
  for (int i = 0; i < k; i++) {
    char v[256];
    ssize_t m = getxattr(f, names[i], v, sizeof v - 1);
    if (m < 0)
      printf("  %s: %s\n", names[i], ename(errno));
    else {
      printf("  %s=", names[i]);
      print_value(v, m);
      printf("\n");
    }
  }
  return 0;
}

// Deterministic pattern: xorshift64 words, restarted per MiB so any MiB can be regenerated.
static void pattern(unsigned char* buf, size_t len, uint64_t mib) {
  uint64_t x = 0x9E3779B97F4A7C15ull ^ (mib * 0x100000001B3ull + 1);
  for (size_t i = 0; i + 8 <= len; i += 8) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    memcpy(buf + i, &x, 8);
  }
}

static int write_all(int fd, const unsigned char* p, size_t n) {
  while (n) {
    ssize_t w = write(fd, p, n);
    if (w < 0) {
      if (errno == EINTR) continue;
      return -1;
    }
    p += w;
    n -= (size_t)w;
  }
  return 0;
}

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec + t.tv_nsec / 1e9;
}

static int do_gen(const char* f, long mib) {
  int fd = strcmp(f, "-") ? open(f, O_CREAT | O_TRUNC | O_WRONLY | O_CLOEXEC, 0644) : 1;
  if (fd < 0) {
    printf("gen open %s\n", ename(errno));
    return 1;
  }
  static unsigned char buf[1 << 20];
  for (long i = 0; i < mib; i++) {
    pattern(buf, sizeof buf, (uint64_t)i);
    if (write_all(fd, buf, sizeof buf)) {
      fprintf(stderr, "gen write %s\n", ename(errno));
      return 1;
    }
  }
  if (fd != 1 && close(fd)) {
    printf("gen close %s\n", ename(errno));
    return 1;
  }
  return 0;
}

static uint64_t fnv(uint64_t h, const unsigned char* p, size_t n) {
  for (size_t i = 0; i < n; i++) {
    h ^= p[i];
    h *= 0x100000001B3ull;
  }
  return h;
}

static int do_hash(const char* f) {
  int fd = open(f, O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    printf("hash open %s\n", ename(errno));
    return 1;
  }
  struct stat st;
  fstat(fd, &st);
  uint64_t h1 = 0xcbf29ce484222325ull, h2 = h1;
  static unsigned char buf[1 << 16];
  ssize_t n;
  off_t total = 0;
  while ((n = read(fd, buf, sizeof buf)) > 0) {
    h1 = fnv(h1, buf, (size_t)n);
    total += n;
  }
  if (n < 0) {
    printf("hash read %s\n", ename(errno));
    return 1;
  }
  if (st.st_size > 0) {
    unsigned char* m = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_SHARED, fd, 0);
    if (m == MAP_FAILED) {
      printf("hash mmap %s\n", ename(errno));
      return 1;
    }
    h2 = fnv(h2, m, (size_t)st.st_size);
    munmap(m, (size_t)st.st_size);
  }
  close(fd);
  printf("hash size=%lld read=%016llx mmap=%016llx %s\n", (long long)total, (unsigned long long)h1,
         (unsigned long long)h2, h1 == h2 && total == st.st_size ? "match" : "MISMATCH");
  return h1 != h2;
}

static int do_fsync(const char* f) {
  int fd = open(f, O_CREAT | O_TRUNC | O_RDWR | O_CLOEXEC, 0644);
  if (fd < 0) {
    printf("fsync open %s\n", ename(errno));
    return 1;
  }
  int bad = write_all(fd, (const unsigned char*)"durable\n", 8) ? report("fsync-write", -1) : 0;
  bad |= report("fsync", fsync(fd));
  bad |= report("fdatasync", fdatasync(fd));
  close(fd);
  char dir[4096];
  snprintf(dir, sizeof dir, "%s", f);
  char* s = strrchr(dir, '/');
  if (s)
    *s = 0;
  else
    strcpy(dir, ".");
  int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  bad |= report("fsync-dir", dfd < 0 ? -1 : fsync(dfd));
  if (dfd >= 0) close(dfd);
  return bad;
}

static int do_unlinked(const char* f) {
  int fd = open(f, O_CREAT | O_TRUNC | O_RDWR | O_CLOEXEC, 0644);
  if (fd < 0) {
    printf("unlinked open %s\n", ename(errno));
    return 1;
  }
  write_all(fd, (const unsigned char*)"before-unlink ", 14);
  report("unlink", unlink(f));
  struct stat st;
  report("stat-path", stat(f, &st));
  if (fstat(fd, &st) == 0)
    printf("fstat nlink=%lu size=%lld\n", (unsigned long)st.st_nlink, (long long)st.st_size);
  else
    report("fstat", -1);
  write_all(fd, (const unsigned char*)"after-unlink", 12);
  char buf[64] = {0};
  ssize_t n = pread(fd, buf, sizeof buf - 1, 0);
  if (n < 0)
    report("pread", -1);
  else
    printf("pread %zd '%s'\n", n, buf);
  if (fstat(fd, &st) == 0) printf("fstat size=%lld\n", (long long)st.st_size);
  report("close", close(fd));
  return 0;
}

static int do_mkfiles(const char* d, long n) {
  char p[4096];
  for (long i = 0; i < n; i++) {
    snprintf(p, sizeof p, "%s/f%05ld-a-longer-directory-entry-name", d, i);
    int fd = open(p, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0644);
    if (fd < 0) {
      printf("mkfiles %ld %s\n", i, ename(errno));
      return 1;
    }
    close(fd);
  }
  return 0;
}

// Reads all names of D (with . and ..) into a sorted array; NULL on error (printed).
static char** read_names(const char* d, size_t* n) {
  DIR* dir = opendir(d);
  if (!dir) {
    printf("opendir %s\n", ename(errno));
    return NULL;
  }
  size_t cap = 1024, k = 0;
  char** v = malloc(cap * sizeof *v);
  struct dirent* e;
  errno = 0;
  while (v && (e = readdir(dir))) {
    if (k == cap) {
      char** nv = realloc(v, (cap *= 2) * sizeof *v);
      if (!nv) break;
      v = nv;
    }
    v[k++] = strdup(e->d_name);
  }
  int err = errno;
  closedir(dir);
  if (err || !v) {
    printf("readdir %s\n", ename(err ? err : ENOMEM));
    return NULL;
  }
  qsort(v, k, sizeof *v, cmpstr);
  *n = k;
  return v;
}

static int do_names(const char* d) {
  size_t n = 0;
  char** v = read_names(d, &n);
  if (!v) return 1;
  for (size_t i = 0; i < n; i++) puts(v[i]);
  return 0;
}

static int do_rmfiles(const char* d) {
  size_t n = 0;
  char** v = read_names(d, &n);
  if (!v) return 1;
  int dfd = open(d, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd < 0) {
    printf("rmfiles open %s\n", ename(errno));
    return 1;
  }
  for (size_t i = 0; i < n; i++) {
    if (!strcmp(v[i], ".") || !strcmp(v[i], "..")) continue;
    if (unlinkat(dfd, v[i], 0)) {
      printf("rmfiles %s %s\n", v[i], ename(errno));
      return 1;
    }
  }
  close(dfd);
  return 0;
}

// Rename race. D/real is a directory holding "inside"; D/sw alternates between that directory
// and symlinks to paths outside the share (absolute host path, relative ../ walks). A reader
// opens D/sw/<name> for every name it is given and classifies what it read.
static int do_race(const char* d, int secs, int nnames, char** names) {
  char real[4096], sw[4096], l1[4096], l2[4096], l3[4096];
  snprintf(real, sizeof real, "%s/real", d);
  snprintf(sw, sizeof sw, "%s/sw", d);
  snprintf(l1, sizeof l1, "%s/l1", d);
  snprintf(l2, sizeof l2, "%s/l2", d);
  snprintf(l3, sizeof l3, "%s/l3", d);
  mkdir(d, 0755);
  if (mkdir(real, 0755) && errno != EEXIST) {
    printf("race mkdir %s\n", ename(errno));
    return 1;
  }
  char in[4200];
  snprintf(in, sizeof in, "%s/inside", real);
  int fd = open(in, O_CREAT | O_TRUNC | O_WRONLY, 0644);
  if (fd < 0) {
    printf("race create %s\n", ename(errno));
    return 1;
  }
  write_all(fd, (const unsigned char*)"INSIDE\n", 7);
  close(fd);
  pid_t pid = fork();
  if (pid == 0) {
    double end = now() + secs;
    const char* targets[3] = {"/tmp/fs_escape/outside",
                              "../../../../../../../../tmp/fs_escape/outside", "/"};
    const char* ls[3] = {l1, l2, l3};
    long swaps = 0;
    while (now() < end) {
      for (int i = 0; i < 3; i++) {
        unlink(ls[i]);
        symlink(targets[i], ls[i]);
        rename(real, sw);  // sw is the real directory
        rename(sw, real);
        rename(ls[i], sw);  // sw is now a symlink to outside
        rename(sw, ls[i]);
        swaps++;
      }
    }
    printf("race swaps=%ld\n", swaps);
    _exit(0);
  }
  long inside = 0, enoent = 0, other = 0, foreign = 0;
  double end = now() + secs;
  char buf[256];
  while (now() < end) {
    for (int i = 0; i < nnames; i++) {
      char p[4200];
      snprintf(p, sizeof p, "%s/%s", sw, names[i]);
      int f = open(p, O_RDONLY | O_CLOEXEC);
      if (f < 0) {
        if (errno == ENOENT || errno == ENOTDIR)
          enoent++;
        else
          other++;
        continue;
      }
      ssize_t n = read(f, buf, sizeof buf - 1);
      close(f);
      if (n < 0) {
        other++;
        continue;
      }
      buf[n] = 0;
      if (!strcmp(buf, "INSIDE\n"))
        inside++;
      else {
        foreign++;
        // Whatever was read is printed: the host scenario checks it never holds its marker.
        for (ssize_t k = 0; k < n; k++)
          if (buf[k] < ' ' || buf[k] > '~') buf[k] = '.';
        if (foreign <= 3) printf("race read %s: '%.80s'\n", names[i], buf);
      }
    }
  }
  int status;
  waitpid(pid, &status, 0);
  printf("race inside=%ld enoent=%ld foreign=%ld other-errors=%ld\n", inside, enoent, foreign,
         other);
  return 0;
}

static int drop_caches(void) {
  sync();
  int fd = open("/proc/sys/vm/drop_caches", O_WRONLY);
  if (fd < 0) return -1;
  int rc = write(fd, "3", 1) == 1 ? 0 : -1;
  close(fd);
  return rc;
}

static int do_bench_seq(const char* f, long mib) {
  static unsigned char buf[1 << 20];
  pattern(buf, sizeof buf, 7);
  drop_caches();
  double t0 = now();
  int fd = open(f, O_CREAT | O_TRUNC | O_WRONLY | O_CLOEXEC, 0644);
  if (fd < 0) {
    printf("bench-seq open %s\n", ename(errno));
    return 1;
  }
  for (long i = 0; i < mib; i++)
    if (write_all(fd, buf, sizeof buf)) {
      printf("bench-seq write %s\n", ename(errno));
      return 1;
    }
  fsync(fd);
  close(fd);
  double tw = now() - t0;
  drop_caches();
  t0 = now();
  fd = open(f, O_RDONLY | O_CLOEXEC);
  long got = 0;
  ssize_t n;
  while ((n = read(fd, buf, sizeof buf)) > 0) got += n;
  close(fd);
  double tr = now() - t0;
  printf("seq mib=%ld write_mibs=%.1f read_mibs=%.1f read_bytes_ok=%d\n", mib, mib / tw, mib / tr,
         got == mib << 20);
  return 0;
}

static int do_bench_rand(const char* f, long n) {
  int fd = open(f, O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    printf("bench-rand open %s\n", ename(errno));
    return 1;
  }
  struct stat st;
  fstat(fd, &st);
  long blocks = st.st_size / 4096;
  if (blocks < 1) return 1;
  drop_caches();
  unsigned char buf[4096];
  uint64_t x = 88172645463325252ull;
  double t0 = now();
  for (long i = 0; i < n; i++) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    if (pread(fd, buf, sizeof buf, (off_t)(x % (uint64_t)blocks) * 4096) != 4096) {
      printf("bench-rand pread %s\n", ename(errno));
      return 1;
    }
  }
  double t = now() - t0;
  close(fd);
  printf("rand n=%ld iops=%.0f\n", n, n / t);
  return 0;
}

static int do_bench_meta(const char* d, long n) {
  char p[4096];
  struct stat st;
  mkdir(d, 0755);
  double t0 = now();
  for (long i = 0; i < n; i++) {
    snprintf(p, sizeof p, "%s/m%ld", d, i);
    int fd = open(p, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0644);
    if (fd < 0) {
      printf("bench-meta create %s\n", ename(errno));
      return 1;
    }
    fstat(fd, &st);
    close(fd);
    if (stat(p, &st) || unlink(p)) {
      printf("bench-meta %s\n", ename(errno));
      return 1;
    }
  }
  double t = now() - t0;
  printf("meta n=%ld ops=%.0f\n", n, n / t);
  return 0;
}

static int do_mktree(const char* d, long n) {
  static unsigned char buf[16384];
  char p[4096];
  pattern(buf, sizeof buf, 11);
  if (mkdir(d, 0755) && errno != EEXIST) {
    printf("mktree mkdir %s\n", ename(errno));
    return 1;
  }
  uint64_t x = 0x2545F4914F6CDD1Dull;
  for (long i = 0; i < n; i++) {
    snprintf(p, sizeof p, "%s/d%03ld", d, i / 100);
    if (i % 100 == 0 && mkdir(p, 0755)) {
      printf("mktree mkdir %s\n", ename(errno));
      return 1;
    }
    snprintf(p, sizeof p, "%s/d%03ld/file-%05ld.h", d, i / 100, i);
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    size_t len = 200 + x % (sizeof buf - 200);
    int fd = open(p, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0644);
    if (fd < 0 || write_all(fd, buf, len)) {
      printf("mktree %s %s\n", p, ename(errno));
      return 1;
    }
    close(fd);
  }
  return 0;
}

static int do_timeit(char** argv) {
  double t0 = now();
  pid_t pid = fork();
  if (pid < 0) return 1;
  if (pid == 0) {
    execvp(argv[0], argv);
    _exit(127);
  }
  int st = 0;
  waitpid(pid, &st, 0);
  printf("seconds=%.3f rc=%d\n", now() - t0, WIFEXITED(st) ? WEXITSTATUS(st) : 128);
  return 0;
}

static char** tree_files;
static size_t tree_count, tree_cap;
static int add_tree_file(const char* p, const struct stat* st, int type, struct FTW* f) {
  (void)st;
  (void)f;
  if (type != FTW_F) return 0;
  if (tree_count == tree_cap) {
    tree_cap = tree_cap ? tree_cap * 2 : 1024;
    char** v = realloc(tree_files, tree_cap * sizeof *v);
    if (!v) return 1;
    tree_files = v;
  }
  tree_files[tree_count++] = strdup(p);
  return 0;
}

static int do_bench_build(const char* d, long rounds) {
  if (nftw(d, add_tree_file, 64, FTW_PHYS) || tree_count == 0) {
    printf("bench-build walk %s\n", ename(errno));
    return 1;
  }
  static unsigned char buf[65536];
  char miss[4200];
  struct stat st;
  long opens = 0;
  double t0 = now();
  for (long r = 0; r < rounds; r++)
    for (size_t i = 0; i < tree_count; i++) {
      snprintf(miss, sizeof miss, "%s.missing", tree_files[i]);
      if (stat(miss, &st) == 0 || errno != ENOENT) {
        printf("bench-build stat-miss %s\n", ename(errno));
        return 1;
      }
      int fd = open(tree_files[i], O_RDONLY | O_CLOEXEC);
      if (fd < 0) {
        printf("bench-build open %s\n", ename(errno));
        return 1;
      }
      while (read(fd, buf, sizeof buf) > 0) {
      }
      close(fd);
      opens++;
    }
  printf("build files=%zu rounds=%ld opens_per_s=%.0f\n", tree_count, rounds, opens / (now() - t0));
  return 0;
}

static int run(int argc, char** argv) {
  if (argc < 3) {
    fprintf(stderr, "usage: see fstool.c\n");
    return 2;
  }
  const char* cmd = argv[1];
  if (!strcmp(cmd, "try")) return do_try(argc - 2, argv + 2);
  if (!strcmp(cmd, "xattr-list")) return do_xattr_list(argv[2]);
  if (!strcmp(cmd, "gen") && argc > 3) return do_gen(argv[2], atol(argv[3]));
  if (!strcmp(cmd, "hash")) return do_hash(argv[2]);
  if (!strcmp(cmd, "fsync")) return do_fsync(argv[2]);
  if (!strcmp(cmd, "unlinked")) return do_unlinked(argv[2]);
  if (!strcmp(cmd, "mkfiles") && argc > 3) return do_mkfiles(argv[2], atol(argv[3]));
  if (!strcmp(cmd, "names")) return do_names(argv[2]);
  if (!strcmp(cmd, "rmfiles")) return do_rmfiles(argv[2]);
  if (!strcmp(cmd, "race") && argc > 4) return do_race(argv[2], atoi(argv[3]), argc - 4, argv + 4);
  if (!strcmp(cmd, "bench-seq") && argc > 3) return do_bench_seq(argv[2], atol(argv[3]));
  if (!strcmp(cmd, "bench-rand") && argc > 3) return do_bench_rand(argv[2], atol(argv[3]));
  if (!strcmp(cmd, "bench-meta") && argc > 3) return do_bench_meta(argv[2], atol(argv[3]));
  if (!strcmp(cmd, "mktree") && argc > 3) return do_mktree(argv[2], atol(argv[3]));
  if (!strcmp(cmd, "timeit")) return do_timeit(argv + 2);
  if (!strcmp(cmd, "bench-build") && argc > 3) return do_bench_build(argv[2], atol(argv[3]));
  if (!strcmp(cmd, "as") && argc > 4) {
    if (setgroups(0, NULL) || setgid((gid_t)atoi(argv[3])) || setuid((uid_t)atoi(argv[2]))) {
      perror("fstool as");
      return 1;
    }
    // In-process, not exec: the uid need not reach this binary's path (a guest initramfs root
    // directory is mode 0700).
    return run(argc - 3, argv + 3);
  }
  fprintf(stderr, "fstool: bad arguments\n");
  return 2;
}

int main(int argc, char** argv) {
  setvbuf(stdout, NULL, _IOLBF, 0);
  return run(argc, argv);
}
