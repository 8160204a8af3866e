/* A real program's file use: SQLite (Debian's libsqlite3, linked statically) on a database
 * file in the directory DIR given as argv[1] (made here): a table, a few thousand rows in
 * transactions, an index, queries, a rollback, a write lock held by one process seen as busy
 * by another (fcntl F_SETLK between processes), deletes, VACUUM and integrity_check. The
 * output and the database file's bytes are the same natively and under emu.
 *   sqlite_file DIR            build DIR/test.db and print what it holds
 *   sqlite_file --check FILE   open an existing database, check it and print the same summary */
#define _GNU_SOURCE
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static void die(sqlite3* db, const char* what) {
    printf("%s: %s\n", what, db ? sqlite3_errmsg(db) : "no database");
    exit(1);
}

static void exec(sqlite3* db, const char* sql) {
    char* msg = NULL;
    if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK) {
        printf("exec \"%.40s\": %s\n", sql, msg ? msg : "?");
        exit(1);
    }
}

/* Prints every row of a query, columns separated by '|'. */
static void show(sqlite3* db, const char* label, const char* sql) {
    sqlite3_stmt* st;
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) die(db, label);
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        printf("%s:", label);
        for (int i = 0; i < sqlite3_column_count(st); i++) {
            const unsigned char* v = sqlite3_column_text(st, i);
            printf("%s%s", i ? "|" : " ", v ? (const char*)v : "NULL");
        }
        printf("\n");
    }
    if (rc != SQLITE_DONE) die(db, label);
    sqlite3_finalize(st);
}

static sqlite3* open_db(const char* path) {
    sqlite3* db;
    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) != SQLITE_OK)
        die(db, "open");
    return db;
}

static unsigned long long seed = 42;
static unsigned rnd(void) {
    seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
    return (unsigned)(seed >> 33);
}

/* ROWS rows in transactions of 1,000: text, integer and a blob of 0..600 bytes. */
static void insert_rows(sqlite3* db, int rows) {
    sqlite3_stmt* st;
    if (sqlite3_prepare_v2(db, "INSERT INTO t(name, val, data) VALUES (?, ?, ?)", -1, &st, NULL) != SQLITE_OK)
        die(db, "prepare insert");
    unsigned char blob[600];
    for (int i = 0; i < rows; i++) {
        if (i % 1000 == 0) exec(db, "BEGIN");
        char name[32];
        snprintf(name, sizeof name, "name-%05u", rnd() % 50000);
        int len = (int)(rnd() % sizeof blob);
        for (int k = 0; k < len; k++) blob[k] = (unsigned char)rnd();
        sqlite3_bind_text(st, 1, name, -1, SQLITE_TRANSIENT);
        sqlite3_bind_int(st, 2, (int)(rnd() % 100000));
        sqlite3_bind_blob(st, 3, blob, len, SQLITE_TRANSIENT);
        if (sqlite3_step(st) != SQLITE_DONE) die(db, "insert");
        sqlite3_reset(st);
        if (i % 1000 == 999 || i == rows - 1) exec(db, "COMMIT");
    }
    sqlite3_finalize(st);
}

static void summary(sqlite3* db) {
    show(db, "rows", "SELECT count(*), sum(val), sum(length(data)) FROM t");
    show(db, "hex", "SELECT hex(substr(data, 1, 8)) FROM t WHERE length(data) >= 8 ORDER BY id LIMIT 3");
    show(db, "integrity", "PRAGMA integrity_check");
}

/* A child process tries to write while this one holds the write lock: SQLITE_BUSY. */
static void lock_between_processes(sqlite3* db, const char* path) {
    exec(db, "BEGIN IMMEDIATE");
    exec(db, "UPDATE t SET val = val + 1 WHERE id = 1");
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        sqlite3* other = open_db(path);
        int rc = sqlite3_exec(other, "BEGIN IMMEDIATE", NULL, NULL, NULL);
        printf("child BEGIN IMMEDIATE while the parent writes: %s\n", rc == SQLITE_BUSY ? "busy" : "NOT busy");
        show(other, "child reads the committed value", "SELECT val FROM t WHERE id = 1");
        sqlite3_close(other);
        fflush(stdout);
        _exit(0);
    }
    int status;
    waitpid(pid, &status, 0);
    exec(db, "COMMIT");
    show(db, "after commit", "SELECT val FROM t WHERE id = 1");
}

static void build(const char* dir) {
    if (mkdir(dir, 0755) != 0) { perror("mkdir"); exit(1); }
    char path[4096];
    snprintf(path, sizeof path, "%s/test.db", dir);
    sqlite3* db = open_db(path);
    exec(db, "PRAGMA page_size = 4096");
    exec(db, "CREATE TABLE t(id INTEGER PRIMARY KEY, name TEXT, val INTEGER, data BLOB)");
    insert_rows(db, 4000);
    exec(db, "CREATE INDEX t_name ON t(name)");
    show(db, "indexed lookup", "SELECT count(*) FROM t WHERE name BETWEEN 'name-10000' AND 'name-19999'");
    show(db, "groups", "SELECT substr(name, 1, 6), count(*), max(val) FROM t GROUP BY 1 ORDER BY 1");
    show(db, "top", "SELECT id, name, val FROM t ORDER BY val DESC, id LIMIT 5");
    exec(db, "BEGIN");
    exec(db, "DELETE FROM t WHERE val % 2 = 0");
    show(db, "inside the rolled-back transaction", "SELECT count(*) FROM t");
    exec(db, "ROLLBACK");
    show(db, "after rollback", "SELECT count(*) FROM t");
    lock_between_processes(db, path);
    exec(db, "DELETE FROM t WHERE val % 3 = 0");
    show(db, "pages before vacuum", "PRAGMA page_count");
    exec(db, "VACUUM");
    show(db, "pages after vacuum", "PRAGMA page_count");
    summary(db);
    if (sqlite3_close(db) != SQLITE_OK) die(db, "close");
    struct stat sb;
    if (stat(path, &sb) == 0) printf("file size %lld\n", (long long)sb.st_size);
    snprintf(path, sizeof path, "%s/test.db-journal", dir);
    printf("journal left: %s\n", access(path, F_OK) == 0 ? "yes" : "no");
}

int main(int argc, char** argv) {
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (argc == 3 && strcmp(argv[1], "--check") == 0) {
        sqlite3* db;
        if (sqlite3_open_v2(argv[2], &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) die(db, "open");
        summary(db);
        sqlite3_close(db);
        return 0;
    }
    if (argc != 2) {
        fprintf(stderr, "usage: sqlite_file DIR | --check FILE\n");
        return 2;
    }
    build(argv[1]);
    return 0;
}
