/*
 * insn_count: a QEMU TCG plugin counting the guest instructions headcount executes, by function
 * of headcount's own executable (symbols from its ELF) and by shared library (below).
 *
 * Used by scripts/aarch64-insns.sh under qemu-aarch64 (user mode). The few QEMU plugin API
 * declarations below are written from QEMU's documented plugin API (docs/devel/tcg-plugins),
 * so no QEMU development package is needed.
 *
 * Code outside the executable is counted per shared library ("lib:<file name>"), found in the
 * host's /proc/self/maps (user-mode qemu maps the guest's files at their guest addresses on a
 * 64-bit host; what is not found there is "[shared libraries]").
 *
 * Output (to the file named by the plugin argument out=PATH, or stderr): one line per bucket,
 * "<instructions>\t<symbol or lib:name>".
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef uint64_t qemu_plugin_id_t;
struct qemu_plugin_tb;
struct qemu_plugin_insn;
typedef struct qemu_info_t qemu_info_t;

extern void qemu_plugin_register_vcpu_tb_trans_cb(
    qemu_plugin_id_t id, void (*cb)(qemu_plugin_id_t, struct qemu_plugin_tb *));
extern void qemu_plugin_register_vcpu_tb_exec_cb(struct qemu_plugin_tb *tb,
                                                 void (*cb)(unsigned int, void *),
                                                 int flags, void *userdata);
extern void qemu_plugin_register_atexit_cb(qemu_plugin_id_t id,
                                           void (*cb)(qemu_plugin_id_t, void *),
                                           void *userdata);
extern size_t qemu_plugin_tb_n_insns(const struct qemu_plugin_tb *tb);
extern uint64_t qemu_plugin_tb_vaddr(const struct qemu_plugin_tb *tb);
extern struct qemu_plugin_insn *qemu_plugin_tb_get_insn(const struct qemu_plugin_tb *tb,
                                                        size_t idx);
extern const char *qemu_plugin_insn_symbol(const struct qemu_plugin_insn *insn);
extern uint64_t qemu_plugin_start_code(void);
extern uint64_t qemu_plugin_end_code(void);

__attribute__((visibility("default"))) int qemu_plugin_version = PLUGIN_API_VERSION;

#define MAX_BUCKETS 8192

struct bucket {
    const char *symbol; /* NULL: shared libraries */
    uint64_t count;
};

struct tb_info {
    struct bucket *bucket;
    uint64_t n;
};

static struct bucket buckets[MAX_BUCKETS];
static size_t n_buckets = 1; /* buckets[0]: shared libraries and unnamed code */
static char out_path[4096];

static struct bucket *bucket_for(const char *symbol)
{
    if (symbol == NULL) {
        return &buckets[0];
    }
    for (size_t i = 1; i < n_buckets; i++) {
        if (buckets[i].symbol == symbol || strcmp(buckets[i].symbol, symbol) == 0) {
            return &buckets[i];
        }
    }
    if (n_buckets == MAX_BUCKETS) {
        return &buckets[0];
    }
    buckets[n_buckets].symbol = symbol;
    return &buckets[n_buckets++];
}

struct mapping {
    uint64_t start, end;
    char *name; /* "lib:<basename>" */
};
static struct mapping maps[1024];
static size_t n_maps;

static void read_maps(void)
{
    FILE *f = fopen("/proc/self/maps", "r");
    if (f == NULL) {
        return;
    }
    char line[4608];
    n_maps = 0;
    while (fgets(line, sizeof line, f) && n_maps < 1024) {
        unsigned long long start, end;
        char perms[8], path[4096] = "";
        /* qemu maps guest code without host execute permission: any file mapping will do. */
        if (sscanf(line, "%llx-%llx %7s %*s %*s %*s %4095s", &start, &end, perms, path) < 3 ||
            path[0] != '/') {
            continue;
        }
        const char *base = strrchr(path, '/') + 1;
        char *name = malloc(strlen(base) + 5);
        if (name == NULL) {
            break;
        }
        strcpy(name, "lib:");
        strcat(name, base);
        maps[n_maps++] = (struct mapping){start, end, name};
    }
    fclose(f);
}

static const char *library_of(uint64_t pc)
{
    for (int pass = 0; pass < 2; pass++) {
        for (size_t i = 0; i < n_maps; i++) {
            if (pc >= maps[i].start && pc < maps[i].end) {
                return maps[i].name;
            }
        }
        read_maps(); /* a library loaded since the last read */
    }
    return NULL;
}

static void tb_exec(unsigned int vcpu, void *udata)
{
    struct tb_info *info = udata;
    (void)vcpu;
    __atomic_fetch_add(&info->bucket->count, info->n, __ATOMIC_RELAXED);
}

static void tb_trans(qemu_plugin_id_t id, struct qemu_plugin_tb *tb)
{
    (void)id;
    struct tb_info *info = malloc(sizeof *info);
    if (info == NULL) {
        return;
    }
    uint64_t pc = qemu_plugin_tb_vaddr(tb);
    const char *symbol = NULL;
    if (pc >= qemu_plugin_start_code() && pc < qemu_plugin_end_code()) {
        symbol = qemu_plugin_insn_symbol(qemu_plugin_tb_get_insn(tb, 0));
        if (symbol == NULL) {
            symbol = "[headcount, no symbol]";
        }
    } else {
        symbol = library_of(pc);
    }
    info->bucket = bucket_for(symbol);
    info->n = qemu_plugin_tb_n_insns(tb);
    qemu_plugin_register_vcpu_tb_exec_cb(tb, tb_exec, 0 /* QEMU_PLUGIN_CB_NO_REGS */, info);
}

static void at_exit(qemu_plugin_id_t id, void *udata)
{
    (void)id;
    (void)udata;
    FILE *out = out_path[0] ? fopen(out_path, "w") : NULL;
    if (out == NULL) {
        out = stderr;
    }
    for (size_t i = 0; i < n_buckets; i++) {
        fprintf(out, "%llu\t%s\n", (unsigned long long)buckets[i].count,
                buckets[i].symbol ? buckets[i].symbol : "[shared libraries]");
    }
    if (out != stderr) {
        fclose(out);
    }
}

__attribute__((visibility("default"))) int qemu_plugin_install(qemu_plugin_id_t id,
                                                               const qemu_info_t *info,
                                                               int argc, char **argv)
{
    (void)info;
    for (int i = 0; i < argc; i++) {
        if (strncmp(argv[i], "out=", 4) == 0) {
            snprintf(out_path, sizeof out_path, "%s", argv[i] + 4);
        }
    }
    qemu_plugin_register_vcpu_tb_trans_cb(id, tb_trans);
    qemu_plugin_register_atexit_cb(id, at_exit, NULL);
    return 0;
}
