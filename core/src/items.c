/*
** The sources of a distributed Map's ItemReader, read one item at a time:
** JSON Lines and CSV stream from the file (a million rows cost one row of
** memory); a JSON array is parsed whole, as it is one value; a listing
** (s3:listObjectsV2) walks the bucket's directory once and sorts the keys
** as S3 lists them. Causes follow Step Functions' States.ItemReaderFailed
** texts where they are known ("Attempting to map over non-iterable node.",
** "CSV headers cannot contain duplicates.").
*/
#define _POSIX_C_SOURCE 200809L /* getline, strdup */
#include <dirent.h>
#include <errno.h>
#include <openssl/evp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "asl_int.h"
#include "items_int.h"
#include "json_int.h"

typedef struct listed {
  char *key, *path;
  int64_t size, mtime_ms;
} listed;

struct orci_reader {
  orci_reader_config cfg;
  FILE *f;
  size_t line;     /* lines read (JSONL, CSV) */
  int64_t count;   /* items given */
  orc_json *array; /* JSON: the whole array */
  size_t pos;      /* JSON / listing: the next index */
  char **headers;  /* CSV */
  size_t nheaders;
  char *buf;        /* JSONL: getline's buffer; CSV: the field buffer */
  size_t cap, blen; /* getline's capacity; CSV field length */
  listed *list;
  size_t nlist;
};

static char *fmt(const char *f, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 1, 2)))
#endif
    ;
static char *fmt(const char *f, ...) {
  char buf[1024];
  va_list ap;
  va_start(ap, f);
  vsnprintf(buf, sizeof buf, f, ap);
  va_end(ap);
  return strdup(buf);
}

/* {====== paths */

char *orci_default_resolve(const char *dir, const char *bucket, const char *key,
                           char **cause) {
  const char *p;
  size_t n;
  char *out;
  if (bucket[0] == '\0' || strchr(bucket, '/') || !strcmp(bucket, ".") ||
      !strcmp(bucket, "..")) {
    *cause = fmt("invalid bucket name '%s'", bucket);
    return NULL;
  }
  if (key[0] == '/') {
    *cause = fmt("the key '%s' must not start with '/'", key);
    return NULL;
  }
  for (p = key; *p;) { /* no ".." segment */
    const char *e = strchr(p, '/');
    size_t len = e ? (size_t)(e - p) : strlen(p);
    if (len == 2 && p[0] == '.' && p[1] == '.') {
      *cause = fmt("the key '%s' leaves the data directory", key);
      return NULL;
    }
    p += len + (e != NULL);
  }
  n = strlen(dir) + strlen(bucket) + strlen(key) + 3;
  { /* a bucket is a directory: none, no bucket (S3 creates no buckets) */
    struct stat st;
    char *bdir = (char *)malloc(n);
    int missing;
    if (bdir == NULL) {
      *cause = strdup("out of memory");
      return NULL;
    }
    snprintf(bdir, n, "%s/%s", dir, bucket);
    missing = stat(bdir, &st) != 0 || !S_ISDIR(st.st_mode);
    free(bdir);
    if (missing) {
      *cause = fmt("NoSuchBucket: The specified bucket does not exist "
                   "(bucket '%s', no directory '%s/%s')",
                   bucket, dir, bucket);
      return NULL;
    }
  }
  out = (char *)malloc(n);
  if (out == NULL) {
    *cause = strdup("out of memory");
    return NULL;
  }
  snprintf(out, n, "%s/%s/%s", dir, bucket, key);
  return out;
}

int orci_make_parents(const char *path) {
  char *p = strdup(path), *s;
  if (p == NULL) return -1;
  for (s = p + 1; *s; s++) {
    if (*s != '/') continue;
    *s = '\0';
    if (mkdir(p, 0777) != 0 && errno != EEXIST) {
      free(p);
      return -1;
    }
    *s = '/';
  }
  free(p);
  return 0;
}

/* }====== */

/* {====== listing (s3:listObjectsV2) */

static int walk(orci_reader *R, const char *dir, const char *rel, size_t *cap) {
  DIR *d = opendir(dir);
  struct dirent *de;
  if (d == NULL) return -1;
  while ((de = readdir(d)) != NULL) {
    char *path, *key;
    struct stat st;
    size_t np, nk;
    if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, "..")) continue;
    np = strlen(dir) + strlen(de->d_name) + 2;
    nk = strlen(rel) + strlen(de->d_name) + 2;
    path = (char *)malloc(np);
    key = (char *)malloc(nk);
    if (path == NULL || key == NULL) {
      free(path);
      free(key);
      closedir(d);
      return -1;
    }
    snprintf(path, np, "%s/%s", dir, de->d_name);
    snprintf(key, nk, "%s%s%s", rel, rel[0] ? "/" : "", de->d_name);
    if (stat(path, &st) != 0) {
      free(path);
      free(key);
      continue;
    }
    if (S_ISDIR(st.st_mode)) {
      int rc = walk(R, path, key, cap);
      free(path);
      free(key);
      if (rc != 0) {
        closedir(d);
        return rc;
      }
      continue;
    }
    if (!S_ISREG(st.st_mode) ||
        strncmp(key, R->cfg.prefix, strlen(R->cfg.prefix)) != 0) {
      free(path);
      free(key);
      continue;
    }
    if (R->nlist == *cap) {
      size_t nc = *cap ? *cap * 2 : 64;
      listed *l = (listed *)realloc(R->list, nc * sizeof *l);
      if (l == NULL) {
        free(path);
        free(key);
        closedir(d);
        return -1;
      }
      R->list = l;
      *cap = nc;
    }
    R->list[R->nlist].key = key;
    R->list[R->nlist].path = path;
    R->list[R->nlist].size = (int64_t)st.st_size;
    R->list[R->nlist].mtime_ms = (int64_t)st.st_mtime * 1000;
    R->nlist++;
  }
  closedir(d);
  return 0;
}

static int listed_cmp(const void *a, const void *b) {
  return strcmp(((const listed *)a)->key, ((const listed *)b)->key);
}

/* S3's ETag of a single-part object: the MD5 of its bytes, quoted. */
static int etag_of(const char *path, char out[35]) {
  unsigned char md[EVP_MAX_MD_SIZE], buf[65536];
  unsigned int n = 0, i;
  size_t got;
  FILE *f = fopen(path, "rb");
  EVP_MD_CTX *c = EVP_MD_CTX_new();
  if (f == NULL || c == NULL || !EVP_DigestInit_ex(c, EVP_md5(), NULL)) {
    if (f) fclose(f);
    EVP_MD_CTX_free(c);
    return -1;
  }
  while ((got = fread(buf, 1, sizeof buf, f)) > 0)
    EVP_DigestUpdate(c, buf, got);
  fclose(f);
  EVP_DigestFinal_ex(c, md, &n);
  EVP_MD_CTX_free(c);
  out[0] = '"';
  for (i = 0; i < n && i < 16; i++)
    snprintf(out + 1 + 2 * i, 3, "%02x", md[i]);
  out[33] = '"';
  out[34] = '\0';
  return 0;
}

static orc_json *str(const char *s) {
  return orc_json_string(s, strlen(s));
}

static int next_listed(orci_reader *R, orc_json **item, char **cause) {
  listed *l;
  char etag[35], ts[40];
  orc_json *o;
  if (R->pos >= R->nlist) return 0;
  l = &R->list[R->pos++];
  if (etag_of(l->path, etag) != 0) {
    *cause = fmt("cannot read '%s': %s", l->key, strerror(errno));
    return -1;
  }
  orci_format_timestamp(l->mtime_ms, ts);
  o = orc_json_object_new(5);
  if (o == NULL) {
    *cause = strdup("out of memory");
    return -1;
  }
  orc_json_object_set(o, 0, str("Etag"), str(etag));
  orc_json_object_set(o, 1, str("Key"), str(l->key));
  orc_json_object_set(o, 2, str("LastModified"), str(ts));
  orc_json_object_set(o, 3, str("Size"), orc_json_int(l->size));
  orc_json_object_set(o, 4, str("StorageClass"), str("STANDARD"));
  *item = o;
  return 1;
}

/* }====== */

/* {====== CSV (RFC 4180: quoted fields, "" inside quotes, CRLF or LF) */

static int buf_put(orci_reader *R, char c) {
  if (R->blen + 1 >= R->cap) {
    size_t nc = R->cap ? R->cap * 2 : 256;
    char *b = (char *)realloc(R->buf, nc);
    if (b == NULL) return -1;
    R->buf = b;
    R->cap = nc;
  }
  R->buf[R->blen++] = c;
  return 0;
}

/* One record into *fields (owned strings); returns the number of fields,
** 0 at the end of the file, -1 with *cause set. Blank lines are skipped. */
static long csv_record(orci_reader *R, char ***fields, char **cause) {
  char **fs = NULL;
  size_t nf = 0, capf = 0;
  int c, quoted = 0, any = 0, was_quoted = 0;
  R->blen = 0;
  for (;;) {
    c = getc(R->f);
    if (quoted) {
      if (c == EOF) {
        *cause = fmt("line %zu: a quoted field is not closed", R->line + 1);
        goto fail;
      }
      if (c == '"') {
        int d = getc(R->f);
        if (d == '"') {
          if (buf_put(R, '"')) goto oom;
          continue;
        }
        if (d != EOF) ungetc(d, R->f);
        quoted = 0;
        continue;
      }
      if (c == '\n') R->line++;
      if (buf_put(R, (char)c)) goto oom;
      continue;
    }
    if (c == '"' && R->blen == 0 && !was_quoted) {
      quoted = was_quoted = any = 1;
      continue;
    }
    if (c == '\r') {
      int d = getc(R->f);
      if (d != '\n' && d != EOF) ungetc(d, R->f);
      c = '\n';
    }
    if (c == R->cfg.csv_delim || c == '\n' || c == EOF) {
      if (c == EOF && !any && nf == 0) {
        free(fs);
        return 0;
      }
      if (c == '\n' && !any && nf == 0) { /* a blank line */
        R->line++;
        continue;
      }
      if (nf == capf) {
        size_t nc = capf ? capf * 2 : 8;
        char **p = (char **)realloc(fs, nc * sizeof *p);
        if (p == NULL) goto oom;
        fs = p;
        capf = nc;
      }
      if ((fs[nf] = (char *)malloc(R->blen + 1)) == NULL) goto oom;
      if (R->blen) memcpy(fs[nf], R->buf, R->blen);
      fs[nf][R->blen] = '\0';
      nf++;
      R->blen = 0;
      was_quoted = 0;
      if (c != R->cfg.csv_delim) {
        if (c == '\n') R->line++;
        *fields = fs;
        return (long)nf;
      }
      any = 1;
      continue;
    }
    if (was_quoted) {
      *cause = fmt("line %zu: text after a quoted field", R->line + 1);
      goto fail;
    }
    any = 1;
    if (buf_put(R, (char)c)) goto oom;
  }
oom:
  *cause = strdup("out of memory");
fail:
  while (nf > 0)
    free(fs[--nf]);
  free(fs);
  return -1;
}

static void free_fields(char **fs, long n) {
  while (n > 0)
    free(fs[--n]);
  free(fs);
}

static int csv_headers(orci_reader *R, char **cause) {
  size_t i, k;
  if (R->cfg.csv_given) {
    R->nheaders = R->cfg.ncsv_headers;
    R->headers = (char **)calloc(R->nheaders ? R->nheaders : 1, sizeof(char *));
    if (R->headers == NULL) return -1;
    for (i = 0; i < R->nheaders; i++)
      if ((R->headers[i] = strdup(R->cfg.csv_headers[i])) == NULL) return -1;
  } else {
    char **fs = NULL;
    long n = csv_record(R, &fs, cause);
    if (n < 0) return -1;
    if (n == 0) {
      *cause = strdup("the CSV file has no header row");
      return -1;
    }
    R->headers = fs;
    R->nheaders = (size_t)n;
  }
  for (i = 0; i < R->nheaders; i++)
    if (orc_utf8_check(R->headers[i], strlen(R->headers[i])) != (size_t)-1) {
      *cause = strdup("the CSV header row is not valid UTF-8");
      return -1;
    }
  for (i = 0; i < R->nheaders; i++)
    for (k = 0; k < i; k++)
      if (!strcmp(R->headers[i], R->headers[k])) {
        *cause = strdup("CSV headers cannot contain duplicates.");
        return -1;
      }
  return 0;
}

static int next_csv(orci_reader *R, orc_json **item, char **cause) {
  char **fs = NULL;
  long n = csv_record(R, &fs, cause);
  orc_json *o;
  size_t i;
  if (n <= 0) return (int)n;
  if ((size_t)n != R->nheaders) {
    *cause = fmt("line %zu: %ld field%s but %zu header%s", R->line, n,
                 n == 1 ? "" : "s", R->nheaders, R->nheaders == 1 ? "" : "s");
    free_fields(fs, n);
    return -1;
  }
  o = orc_json_object_new(R->nheaders);
  for (i = 0; o && i < R->nheaders; i++) {
    orc_json *v;
    if (orc_utf8_check(fs[i], strlen(fs[i])) != (size_t)-1) {
      *cause = fmt("line %zu: a field is not valid UTF-8", R->line);
      orc_json_unref(o);
      free_fields(fs, n);
      return -1;
    }
    v = orc_json_string(fs[i], strlen(fs[i]));
    orc_json_object_set(o, i, str(R->headers[i]), v);
  }
  free_fields(fs, n);
  if (o == NULL) {
    *cause = strdup("out of memory");
    return -1;
  }
  *item = o;
  return 1;
}

/* }====== */

/* {====== JSON and JSON Lines */

static int load_json(orci_reader *R, char **cause) {
  long size;
  char *text;
  orc_json_limits lim;
  orc_error err;
  if (fseek(R->f, 0, SEEK_END) != 0 || (size = ftell(R->f)) < 0 ||
      fseek(R->f, 0, SEEK_SET) != 0) {
    *cause = fmt("cannot read the file: %s", strerror(errno));
    return -1;
  }
  text = (char *)malloc((size_t)size + 1);
  if (text == NULL || fread(text, 1, (size_t)size, R->f) != (size_t)size) {
    free(text);
    *cause = strdup(text ? "cannot read the file" : "out of memory");
    return -1;
  }
  memset(&lim, 0, sizeof lim);
  lim.max_bytes = (size_t)size + 1;
  if (orc_json_parse(text, (size_t)size, &lim, &R->array, &err) != ORC_OK) {
    free(text);
    *cause = fmt("the file is not JSON: %s", err.message);
    return -1;
  }
  free(text);
  if (orc_json_type_of(R->array) != ORC_JSON_ARRAY) {
    *cause = strdup("Attempting to map over non-iterable node.");
    return -1;
  }
  return 0;
}

static int next_jsonl(orci_reader *R, orc_json **item, char **cause) {
  for (;;) {
    ssize_t n = getline(&R->buf, &R->cap, R->f);
    orc_error err;
    size_t len;
    if (n < 0) {
      if (ferror(R->f)) {
        *cause = fmt("cannot read the file: %s", strerror(errno));
        return -1;
      }
      return 0;
    }
    R->line++;
    len = (size_t)n;
    while (len > 0 && (R->buf[len - 1] == '\n' || R->buf[len - 1] == '\r' ||
                       R->buf[len - 1] == ' ' || R->buf[len - 1] == '\t'))
      len--;
    if (len == 0) continue; /* blank lines are skipped */
    if (orc_json_parse(R->buf, len, NULL, item, &err) != ORC_OK) {
      *cause = fmt("line %zu is not JSON: %s", R->line, err.message);
      return -1;
    }
    return 1;
  }
}

/* }====== */

orci_reader *orci_reader_open(const orci_reader_config *cfg, char **cause) {
  orci_reader *R = (orci_reader *)calloc(1, sizeof *R);
  *cause = NULL;
  if (R == NULL) {
    *cause = strdup("out of memory");
    return NULL;
  }
  R->cfg = *cfg;
  if (cfg->type == ORCI_READ_LIST) {
    size_t cap = 0;
    struct stat st;
    if (stat(cfg->path, &st) == 0 && S_ISDIR(st.st_mode) &&
        walk(R, cfg->path, "", &cap) != 0) {
      *cause = fmt("cannot list the bucket: %s", strerror(errno));
      orci_reader_close(R);
      return NULL;
    }
    if (R->nlist > 1) qsort(R->list, R->nlist, sizeof *R->list, listed_cmp);
    return R;
  }
  R->f = fopen(cfg->path, "rb");
  if (R->f == NULL) {
    *cause = errno == ENOENT
                 ? strdup("The specified key does not exist.")
                 : fmt("cannot open the object: %s", strerror(errno));
    orci_reader_close(R);
    return NULL;
  }
  if ((cfg->type == ORCI_READ_JSON && load_json(R, cause) != 0) ||
      (cfg->type == ORCI_READ_CSV && csv_headers(R, cause) != 0)) {
    if (*cause == NULL) *cause = strdup("out of memory");
    orci_reader_close(R);
    return NULL;
  }
  return R;
}

int orci_reader_next(orci_reader *R, orc_json **item, char **cause) {
  int rc;
  *item = NULL;
  *cause = NULL;
  if (R->cfg.max_items > 0 && R->count >= R->cfg.max_items) return 0;
  switch (R->cfg.type) {
  case ORCI_READ_JSON:
    if (R->pos >= orc_json_len(R->array)) return 0;
    *item = orc_json_ref(orc_json_array_get(R->array, R->pos++));
    rc = 1;
    break;
  case ORCI_READ_JSONL:
    rc = next_jsonl(R, item, cause);
    break;
  case ORCI_READ_CSV:
    rc = next_csv(R, item, cause);
    break;
  default:
    rc = next_listed(R, item, cause);
    break;
  }
  if (rc == 1) R->count++;
  return rc;
}

void orci_reader_close(orci_reader *R) {
  size_t i;
  if (R == NULL) return;
  if (R->f) fclose(R->f);
  orc_json_unref(R->array);
  for (i = 0; i < R->nheaders; i++)
    free(R->headers[i]);
  free(R->headers);
  free(R->buf);
  for (i = 0; i < R->nlist; i++) {
    free(R->list[i].key);
    free(R->list[i].path);
  }
  free(R->list);
  free(R);
}
