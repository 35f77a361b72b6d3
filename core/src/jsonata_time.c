/*
** JSONata date/time and integer pictures: $fromMillis, $toMillis, $now's
** formatting, $formatInteger and $parseInteger (XPath F&O 3.1 pictures as
** jsonata-js implements them: the same analysis of a picture drives both
** formatting and parsing, and parsing matches a PCRE2 regex built from the
** picture).
*/
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jsonata_int.h"

#define UNDEF  orci_jundef()
#define ARG(i) ((i) < nargs ? args[(i)] : orci_jundef())

/* {====== text helpers */

typedef struct tbuf {
  char p[4096];
  size_t n;
} tbuf;

static void tb_addn(tbuf *b, const char *s, size_t l) {
  if (b->n + l >= sizeof b->p) l = sizeof b->p - 1 - b->n;
  memcpy(b->p + b->n, s, l);
  b->n += l;
  b->p[b->n] = '\0';
}

static void tb_add(tbuf *b, const char *s) {
  tb_addn(b, s, strlen(s));
}

static void tb_cp(tbuf *b, uint32_t c) {
  char o[4];
  size_t k = 0;
  if (c < 0x80)
    o[k++] = (char)c;
  else if (c < 0x800) {
    o[k++] = (char)(0xC0 | (c >> 6));
    o[k++] = (char)(0x80 | (c & 0x3F));
  } else if (c < 0x10000) {
    o[k++] = (char)(0xE0 | (c >> 12));
    o[k++] = (char)(0x80 | ((c >> 6) & 0x3F));
    o[k++] = (char)(0x80 | (c & 0x3F));
  } else {
    o[k++] = (char)(0xF0 | (c >> 18));
    o[k++] = (char)(0x80 | ((c >> 12) & 0x3F));
    o[k++] = (char)(0x80 | ((c >> 6) & 0x3F));
    o[k++] = (char)(0x80 | (c & 0x3F));
  }
  tb_addn(b, o, k);
}

/* Decode UTF-8 into at most max code points; returns the count. */
static int to_cps(const char *s, size_t n, uint32_t *out, int max) {
  int k = 0;
  for (size_t i = 0; i < n && k < max;) {
    unsigned char c = (unsigned char)s[i];
    int len = c < 0x80 ? 1 : c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4;
    if (i + (size_t)len > n) len = 1;
    uint32_t cp = len == 1   ? c
                  : len == 2 ? (c & 0x1Fu)
                  : len == 3 ? (c & 0x0Fu)
                             : (c & 0x07u);
    for (int j = 1; j < len; j++)
      cp = (cp << 6) | ((unsigned char)s[i + (size_t)j] & 0x3Fu);
    out[k++] = cp;
    i += (size_t)len;
  }
  return k;
}

static void upper(tbuf *b) {
  for (size_t i = 0; i < b->n; i++)
    if (b->p[i] >= 'a' && b->p[i] <= 'z') b->p[i] = (char)(b->p[i] - 32);
}

static void lower(tbuf *b) {
  for (size_t i = 0; i < b->n; i++)
    if (b->p[i] >= 'A' && b->p[i] <= 'Z') b->p[i] = (char)(b->p[i] + 32);
}

/* }====== */

/* {====== calendar (proleptic Gregorian, UTC) */

static int64_t days_from_civil(int64_t y, int64_t m, int64_t d) {
  /* months outside 1..12 carry into the year, as Date.UTC does */
  y += (m - 1 >= 0 ? (m - 1) / 12 : -((12 - m) / 12));
  m = ((m - 1) % 12 + 12) % 12 + 1;
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const int64_t yoe = y - era * 400;
  const int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5;
  const int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468 + (d - 1);
}

static void civil_from_days(int64_t z, int64_t *y, int *m, int *d) {
  z += 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const int64_t doe = z - era * 146097;
  const int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const int64_t mp = (5 * doy + 2) / 153;
  *d = (int)(doy - (153 * mp + 2) / 5 + 1);
  *m = (int)(mp < 10 ? mp + 3 : mp - 9);
  *y = yoe + era * 400 + (*m <= 2);
}

#define DAY_MS 86400000.0

/* Date.UTC(y, month0) in ms */
static double utc(int64_t y, int64_t month0) {
  return (double)days_from_civil(y, month0 + 1, 1) * DAY_MS;
}

typedef struct dt {
  double ms; /* the instant (already shifted by the time zone) */
  int64_t year;
  int month, day, hour, minute, second, milli;
  int wday; /* 0 = Sunday, as getUTCDay */
} dt;

static void split_ms(double ms, dt *t) {
  int64_t days = (int64_t)floor(ms / DAY_MS);
  double rem = ms - (double)days * DAY_MS;
  t->ms = ms;
  civil_from_days(days, &t->year, &t->month, &t->day);
  int64_t r = (int64_t)rem;
  t->hour = (int)(r / 3600000);
  t->minute = (int)(r / 60000 % 60);
  t->second = (int)(r / 1000 % 60);
  t->milli = (int)(r % 1000);
  t->wday = (int)(((days % 7) + 7 + 4) % 7);
}

static double start_of_first_week(int64_t year, int64_t month0) {
  double jan1 = utc(year, month0);
  dt t;
  split_ms(jan1, &t);
  int dow = t.wday == 0 ? 7 : t.wday;
  return dow > 4 ? jan1 + (8 - dow) * DAY_MS : jan1 - (dow - 1) * DAY_MS;
}

static double delta_weeks(double start, double end) {
  return (end - start) / (DAY_MS * 7) + 1;
}

/* getDateTimeFragment for numeric components; names come from these */
static double fragment(const dt *t, char comp) {
  switch (comp) {
  case 'Y':
    return (double)t->year;
  case 'M':
    return t->month;
  case 'D':
    return t->day;
  case 'd': {
    double today = (double)days_from_civil(t->year, t->month, t->day) * DAY_MS;
    return (today - utc(t->year, 0)) / DAY_MS + 1;
  }
  case 'F':
    return t->wday == 0 ? 7 : t->wday;
  case 'W': {
    double s1 = start_of_first_week(t->year, 0);
    double today = (double)days_from_civil(t->year, t->month, t->day) * DAY_MS;
    double week = delta_weeks(s1, today);
    if (week > 52) {
      if (today >= start_of_first_week(t->year + 1, 0)) week = 1;
    } else if (week < 1) {
      week = delta_weeks(start_of_first_week(t->year - 1, 0), today);
    }
    return floor(week);
  }
  case 'w': {
    int64_t y = t->year;
    int m0 = t->month - 1;
    double s1 = start_of_first_week(y, m0);
    double today = (double)days_from_civil(y, t->month, t->day) * DAY_MS;
    double week = delta_weeks(s1, today);
    if (week > 4) {
      int64_t ny = m0 == 11 ? y + 1 : y;
      int nm = m0 == 11 ? 0 : m0 + 1;
      if (today >= start_of_first_week(ny, nm)) week = 1;
    } else if (week < 1) {
      int64_t py = m0 == 0 ? y - 1 : y;
      int pm = m0 == 0 ? 11 : m0 - 1;
      week = delta_weeks(start_of_first_week(py, pm), today);
    }
    return floor(week);
  }
  case 'X': {
    double s = start_of_first_week(t->year, 0);
    double e = start_of_first_week(t->year + 1, 0);
    if (t->ms < s) return (double)(t->year - 1);
    if (t->ms >= e) return (double)(t->year + 1);
    return (double)t->year;
  }
  case 'x': {
    int64_t y = t->year;
    int m0 = t->month - 1;
    double s = start_of_first_week(y, m0);
    int64_t ny = m0 == 11 ? y + 1 : y;
    int nm = m0 == 11 ? 0 : m0 + 1;
    double e = start_of_first_week(ny, nm);
    if (t->ms < s) return m0 == 0 ? 12 : m0;
    if (t->ms >= e) return nm + 1;
    return m0 + 1;
  }
  case 'H':
    return t->hour;
  case 'h':
    return t->hour % 12 == 0 ? 12 : t->hour % 12;
  case 'm':
    return t->minute;
  case 's':
    return t->second;
  case 'f':
    return t->milli;
  default:
    return 0;
  }
}

/* }====== */

/* {====== integer pictures */

enum { P_DECIMAL, P_LETTERS, P_ROMAN, P_WORDS, P_SEQUENCE };
enum { C_LOWER, C_UPPER, C_TITLE };

typedef struct ifmt {
  int primary, tcase, ordinal;
  uint32_t zero;
  int mandatory, optional;
  int regular, reg_pos;
  uint32_t reg_char;
  int nsep, sep_pos[32];
  uint32_t sep_char[32];
  int parse_width;
  char token[64];
} ifmt;

static const uint32_t DECIMAL_GROUPS[] = {
    0x30,   0x0660, 0x06F0, 0x07C0, 0x0966, 0x09E6, 0x0A66, 0x0AE6,
    0x0B66, 0x0BE6, 0x0C66, 0x0CE6, 0x0D66, 0x0DE6, 0x0E50, 0x0ED0,
    0x0F20, 0x1040, 0x1090, 0x17E0, 0x1810, 0x1946, 0x19D0, 0x1A80,
    0x1A90, 0x1B50, 0x1BB0, 0x1C40, 0x1C50, 0xA620, 0xA8D0, 0xA900,
    0xA9D0, 0xA9F0, 0xAA50, 0xABF0, 0xFF10};

static int gcd_(int a, int b) {
  return b == 0 ? a : gcd_(b, a % b);
}

static void analyse_int(jctx *C, const char *pic, size_t pn, ifmt *f) {
  memset(f, 0, sizeof *f);
  f->primary = P_DECIMAL;
  f->tcase = C_LOWER;
  size_t body = pn;
  for (size_t i = pn; i > 0; i--)
    if (pic[i - 1] == ';') {
      body = i - 1;
      if (i < pn && pic[i] == 'o') f->ordinal = 1;
      break;
    }
  if (body == 1 && (pic[0] == 'A' || pic[0] == 'a')) {
    f->primary = P_LETTERS;
    f->tcase = pic[0] == 'A' ? C_UPPER : C_LOWER;
    return;
  }
  if (body == 1 && (pic[0] == 'I' || pic[0] == 'i')) {
    f->primary = P_ROMAN;
    f->tcase = pic[0] == 'I' ? C_UPPER : C_LOWER;
    return;
  }
  if (body == 1 && (pic[0] == 'W' || pic[0] == 'w')) {
    f->primary = P_WORDS;
    f->tcase = pic[0] == 'W' ? C_UPPER : C_LOWER;
    return;
  }
  if (body == 2 && !memcmp(pic, "Ww", 2)) {
    f->primary = P_WORDS;
    f->tcase = C_TITLE;
    return;
  }
  uint32_t cps[128];
  int n = to_cps(pic, body, cps, 128), pos = 0;
  for (int i = n - 1; i >= 0; i--) {
    uint32_t cp = cps[i];
    int digit = 0;
    for (size_t g = 0; g < sizeof DECIMAL_GROUPS / sizeof DECIMAL_GROUPS[0];
         g++) {
      uint32_t grp = DECIMAL_GROUPS[g];
      if (cp >= grp && cp <= grp + 9) {
        digit = 1;
        f->mandatory++;
        pos++;
        if (f->zero == 0)
          f->zero = grp;
        else if (grp != f->zero)
          orci_jthrow(C, "D3131", 0, NULL, NULL);
        break;
      }
    }
    if (!digit) {
      if (cp == '#') {
        pos++;
        f->optional++;
      } else if (f->nsep < 32) {
        f->sep_pos[f->nsep] = pos;
        f->sep_char[f->nsep++] = cp;
      }
    }
  }
  if (f->mandatory == 0) {
    f->primary = P_SEQUENCE;
    snprintf(f->token, sizeof f->token, "%.*s", (int)(body > 60 ? 60 : body),
             pic);
    return;
  }
  if (f->nsep > 0) {
    int reg = 1, factor = f->sep_pos[0];
    for (int i = 1; i < f->nsep; i++) {
      if (f->sep_char[i] != f->sep_char[0]) reg = 0;
      factor = gcd_(factor, f->sep_pos[i]);
    }
    for (int k = 1; reg && k <= f->nsep; k++) {
      int found = 0;
      for (int i = 0; i < f->nsep; i++)
        if (f->sep_pos[i] == k * factor) found = 1;
      if (!found) reg = 0;
    }
    if (reg && factor > 0) {
      f->regular = 1;
      f->reg_pos = factor;
      f->reg_char = f->sep_char[0];
    }
  }
}

static const char *const FEW[] = {
    "Zero",    "One",     "Two",       "Three",    "Four",
    "Five",    "Six",     "Seven",     "Eight",    "Nine",
    "Ten",     "Eleven",  "Twelve",    "Thirteen", "Fourteen",
    "Fifteen", "Sixteen", "Seventeen", "Eighteen", "Nineteen"};
static const char *const ORDS[] = {
    "Zeroth",    "First",     "Second",      "Third",      "Fourth",
    "Fifth",     "Sixth",     "Seventh",     "Eighth",     "Ninth",
    "Tenth",     "Eleventh",  "Twelfth",     "Thirteenth", "Fourteenth",
    "Fifteenth", "Sixteenth", "Seventeenth", "Eighteenth", "Nineteenth"};
static const char *const DECADES[] = {"Twenty", "Thirty", "Forty",
                                      "Fifty",  "Sixty",  "Seventy",
                                      "Eighty", "Ninety", "Hundred"};
static const char *const MAGS[] = {"Thousand", "Million", "Billion",
                                   "Trillion"};

static void words(tbuf *b, double num, int prev, int ord) {
  if (num <= 19) {
    if (prev) tb_add(b, " and ");
    tb_add(b, ord ? ORDS[(int)num] : FEW[(int)num]);
  } else if (num < 100) {
    int tens = (int)floor(num / 10), rem = (int)fmod(num, 10);
    if (prev) tb_add(b, " and ");
    if (rem > 0) {
      tb_add(b, DECADES[tens - 2]);
      tb_add(b, "-");
      words(b, rem, 0, ord);
    } else if (ord) {
      tb_addn(b, DECADES[tens - 2], strlen(DECADES[tens - 2]) - 1);
      tb_add(b, "ieth");
    } else {
      tb_add(b, DECADES[tens - 2]);
    }
  } else if (num < 1000) {
    int h = (int)floor(num / 100);
    double rem = fmod(num, 100);
    if (prev) tb_add(b, ", ");
    tb_add(b, FEW[h]);
    tb_add(b, " Hundred");
    if (rem > 0)
      words(b, rem, 1, ord);
    else if (ord)
      tb_add(b, "th");
  } else {
    int mag = (int)floor(log10(num) / 3);
    if (mag > 4) mag = 4;
    double factor = pow(10, mag * 3);
    double mant = floor(num / factor), rem = num - mant * factor;
    if (prev) tb_add(b, ", ");
    words(b, mant, 0, 0);
    tb_add(b, " ");
    tb_add(b, MAGS[mag - 1]);
    if (rem > 0)
      words(b, rem, 1, ord);
    else if (ord)
      tb_add(b, "th");
  }
}

static void format_int(jctx *C, tbuf *b, double value, const ifmt *f) {
  int neg = value < 0;
  tbuf o;
  o.n = 0;
  o.p[0] = '\0';
  value = fabs(value);
  switch (f->primary) {
  case P_LETTERS: {
    char t[64];
    int k = 0;
    char a = f->tcase == C_UPPER ? 'A' : 'a';
    while (value > 0 && k < 60) {
      t[k++] = (char)(a + (int)fmod(value - 1, 26));
      value = floor((value - 1) / 26);
    }
    while (k > 0)
      tb_addn(&o, &t[--k], 1);
    break;
  }
  case P_ROMAN: {
    static const struct {
      int v;
      const char *s;
    } R[] = {{1000, "m"}, {900, "cm"}, {500, "d"}, {400, "cd"}, {100, "c"},
             {90, "xc"},  {50, "l"},   {40, "xl"}, {10, "x"},   {9, "ix"},
             {5, "v"},    {4, "iv"},   {1, "i"}};
    double v = value > 1e6 ? 1e6 : value;
    for (size_t i = 0; i < sizeof R / sizeof R[0]; i++)
      while (v >= R[i].v) {
        tb_add(&o, R[i].s);
        v -= R[i].v;
      }
    if (f->tcase == C_UPPER) upper(&o);
    break;
  }
  case P_WORDS:
    words(&o, value, 0, f->ordinal);
    if (f->tcase == C_UPPER)
      upper(&o);
    else if (f->tcase == C_LOWER)
      lower(&o);
    break;
  case P_DECIMAL: {
    char num[40];
    orci_jnumfmt(value, num);
    uint32_t d[400];
    int n = 0;
    int pad = f->mandatory - (int)strlen(num);
    for (int i = 0; i < pad && n < 300; i++)
      d[n++] = '0';
    for (const char *q = num; *q && n < 300; q++)
      d[n++] = (uint32_t)*q;
    if (f->zero != '0')
      for (int i = 0; i < n; i++)
        if (d[i] >= '0' && d[i] <= '9') d[i] = d[i] - '0' + f->zero;
    if (f->regular) {
      int groups = (n - 1) / f->reg_pos;
      for (int g = groups; g > 0 && n < 390; g--) {
        int p = n - g * f->reg_pos;
        memmove(d + p + 1, d + p, (size_t)(n - p) * sizeof *d);
        d[p] = f->reg_char;
        n++;
      }
    } else {
      for (int i = f->nsep - 1; i >= 0 && n < 390; i--) {
        int p = n - f->sep_pos[i];
        if (p < 0 || p > n) continue;
        memmove(d + p + 1, d + p, (size_t)(n - p) * sizeof *d);
        d[p] = f->sep_char[i];
        n++;
      }
    }
    for (int i = 0; i < n; i++)
      tb_cp(&o, d[i]);
    if (f->ordinal) {
      char last = o.n ? o.p[o.n - 1] : '0';
      const char *suf = last == '1'   ? "st"
                        : last == '2' ? "nd"
                        : last == '3' ? "rd"
                                      : "th";
      if (o.n > 1 && o.p[o.n - 2] == '1') suf = "th";
      tb_add(&o, suf);
    }
    break;
  }
  default:
    orci_jthrow(C, "D3130", 0, NULL, f->token);
  }
  if (neg) tb_add(b, "-");
  tb_add(b, o.p);
}

jv orci_jfn_format_integer(jctx *C, double v, const char *pic, size_t pn,
                           int position) {
  (void)position;
  ifmt f;
  tbuf b;
  b.n = 0;
  b.p[0] = '\0';
  analyse_int(C, pic, pn, &f);
  format_int(C, &b, floor(v), &f);
  return orci_jstr_copy(C, b.p, b.n);
}

/* words to a number: jsonata-js's wordsToNumber */
static double word_value(const char *w, size_t n, int *ok) {
  char t[32];
  if (n == 0 || n > 30) {
    *ok = 0;
    return 0;
  }
  for (size_t i = 0; i < n; i++)
    t[i] = (char)((w[i] >= 'A' && w[i] <= 'Z') ? w[i] + 32 : w[i]);
  t[n] = '\0';
  *ok = 1;
  for (int i = 0; i < 20; i++) {
    char a[32], o[32];
    snprintf(a, sizeof a, "%s", FEW[i]);
    snprintf(o, sizeof o, "%s", ORDS[i]);
    a[0] = (char)(a[0] + 32);
    o[0] = (char)(o[0] + 32);
    if (!strcmp(t, a) || !strcmp(t, o)) return i;
  }
  for (int i = 0; i < 9; i++) {
    char a[32], o[32];
    snprintf(a, sizeof a, "%s", DECADES[i]);
    a[0] = (char)(a[0] + 32);
    snprintf(o, sizeof o, "%.*sieth", (int)strlen(a) - 1, a);
    if (!strcmp(t, a) || !strcmp(t, o)) return (i + 2) * 10;
  }
  if (!strcmp(t, "hundredth")) return 100;
  for (int i = 0; i < 4; i++) {
    char a[32], o[40];
    snprintf(a, sizeof a, "%s", MAGS[i]);
    a[0] = (char)(a[0] + 32);
    snprintf(o, sizeof o, "%sth", a);
    if (!strcmp(t, a) || !strcmp(t, o)) return pow(10, (i + 1) * 3);
  }
  *ok = 0;
  return 0;
}

static double words_to_number(const char *s, size_t n) {
  double segs[64];
  int ns = 1;
  segs[0] = 0;
  size_t i = 0;
  while (i <= n) {
    /* separators: ", ", " and ", whitespace, '-' */
    size_t st = i;
    while (i < n && s[i] != ' ' && s[i] != '-' && s[i] != ',' && s[i] != '\t' &&
           s[i] != '\n')
      i++;
    size_t wl = i - st;
    if (wl == 3 && (s[st] | 0x20) == 'a' && (s[st + 1] | 0x20) == 'n' &&
        (s[st + 2] | 0x20) == 'd')
      wl = 0;
    if (wl > 0) {
      int ok;
      double v = word_value(s + st, wl, &ok);
      if (!ok) return NAN;
      if (v < 100) {
        double top = segs[--ns];
        if (top >= 1000) {
          segs[ns++] = top;
          top = 0;
        }
        if (ns < 63) segs[ns++] = top + v;
      } else {
        segs[ns - 1] *= v;
      }
    }
    i++;
  }
  double r = 0;
  for (int k = 0; k < ns; k++)
    r += segs[k];
  return r;
}

/* Parse s by an analysed integer picture (no regex: the whole text). */
static double parse_int_by(jctx *C, const char *s, size_t n, const ifmt *f) {
  switch (f->primary) {
  case P_LETTERS: {
    double d = 0;
    char a = f->tcase == C_UPPER ? 'A' : 'a';
    for (size_t i = 0; i < n; i++)
      d += (s[n - i - 1] - a + 1) * pow(26, (double)i);
    return d;
  }
  case P_ROMAN: {
    double d = 0;
    int max = 1;
    for (size_t i = n; i > 0; i--) {
      char c = s[i - 1];
      if (c >= 'a' && c <= 'z') c = (char)(c - 32);
      int v = c == 'M'   ? 1000
              : c == 'D' ? 500
              : c == 'C' ? 100
              : c == 'L' ? 50
              : c == 'X' ? 10
              : c == 'V' ? 5
              : c == 'I' ? 1
                         : 0;
      if (v < max)
        d -= v;
      else
        max = v, d += v;
    }
    return d;
  }
  case P_WORDS:
    return words_to_number(s, n);
  case P_DECIMAL: {
    uint32_t cps[256];
    int k = to_cps(s, n, cps, 256);
    if (f->ordinal && k >= 2) k -= 2;
    double v = 0;
    int any = 0, neg = 0;
    for (int i = 0; i < k; i++) {
      uint32_t c = cps[i];
      if (i == 0 && c == '-') {
        neg = 1;
        continue;
      }
      int skip = 0;
      if (f->regular)
        skip = c == ',' || c == f->reg_char;
      else
        for (int j = 0; j < f->nsep; j++)
          if (c == f->sep_char[j]) skip = 1;
      if (skip) continue;
      if (c >= f->zero && c <= f->zero + 9) {
        v = v * 10 + (c - f->zero);
        any = 1;
      } else {
        break; /* parseInt stops at the first non-digit */
      }
    }
    if (!any) return NAN;
    return neg ? -v : v;
  }
  default:
    orci_jthrow(C, "D3130", 0, NULL, f->token);
  }
}

jv orci_jfn_parse_integer(jctx *C, const char *s, size_t n, const char *pic,
                          size_t pn, int position) {
  (void)position;
  ifmt f;
  analyse_int(C, pic, pn, &f);
  double v = parse_int_by(C, s, n, &f);
  if (isnan(v)) return UNDEF;
  return orci_jnum(C, v);
}

/* }====== */

/* {====== date/time pictures */

static const char *const DAYS[] = {"",          "Monday",   "Tuesday",
                                   "Wednesday", "Thursday", "Friday",
                                   "Saturday",  "Sunday"};
static const char *const MONTHS[] = {
    "January", "February", "March",     "April",   "May",      "June",
    "July",    "August",   "September", "October", "November", "December"};

typedef struct dpart {
  int literal;
  char lit[128];
  size_t litn;
  char comp;
  char pres1[48];
  char pres2;
  int names; /* 0, or C_LOWER+1, C_UPPER+1, C_TITLE+1 */
  int has_int;
  ifmt f;
  int wmin, wmax; /* -1: not given */
  int n;          /* Y: digits kept (-1 all) */
} dpart;

typedef struct dspec {
  dpart *p;
  int n;
} dspec;

static void add_lit(jctx *C, dspec *d, const char *s, size_t n, int *cap) {
  if (n == 0) return;
  if (d->n == *cap) {
    int nc = *cap * 2;
    dpart *np = (dpart *)orci_jalloc(C, (size_t)nc * sizeof *np);
    memcpy(np, d->p, (size_t)d->n * sizeof *np);
    d->p = np;
    *cap = nc;
  }
  dpart *x = &d->p[d->n++];
  memset(x, 0, sizeof *x);
  x->literal = 1;
  /* "]]" stands for "]" */
  for (size_t i = 0; i < n && x->litn < sizeof x->lit - 1; i++) {
    x->lit[x->litn++] = s[i];
    if (s[i] == ']' && i + 1 < n && s[i + 1] == ']') i++;
  }
}

static int parse_width(const char *s, size_t n) {
  if (n == 0 || (n == 1 && s[0] == '*')) return -1;
  char t[16];
  snprintf(t, sizeof t, "%.*s", (int)(n > 15 ? 15 : n), s);
  return atoi(t);
}

static dspec analyse_dt(jctx *C, const char *pic, size_t pn) {
  dspec d;
  int cap = 8;
  d.p = (dpart *)orci_jalloc(C, (size_t)cap * sizeof *d.p);
  d.n = 0;
  size_t start = 0, pos = 0;
  while (pos < pn) {
    if (pic[pos] == '[') {
      if (pos + 1 < pn && pic[pos + 1] == '[') {
        add_lit(C, &d, pic + start, pos - start, &cap);
        add_lit(C, &d, "[", 1, &cap);
        pos += 2;
        start = pos;
        continue;
      }
      add_lit(C, &d, pic + start, pos - start, &cap);
      start = pos;
      const char *close = memchr(pic + start, ']', pn - start);
      if (!close) orci_jthrow(C, "D3135", 0, NULL, NULL);
      pos = (size_t)(close - pic);
      char m[64];
      size_t mn = 0;
      for (size_t k = start + 1; k < pos && mn < 63; k++)
        if (pic[k] != ' ' && pic[k] != '\t' && pic[k] != '\n' && pic[k] != '\r')
          m[mn++] = pic[k];
      m[mn] = '\0';
      if (d.n == cap) {
        int nc = cap * 2;
        dpart *np = (dpart *)orci_jalloc(C, (size_t)nc * sizeof *np);
        memcpy(np, d.p, (size_t)d.n * sizeof *np);
        d.p = np;
        cap = nc;
      }
      dpart *x = &d.p[d.n];
      memset(x, 0, sizeof *x);
      x->comp = mn ? m[0] : '\0';
      x->wmin = x->wmax = -1;
      char *comma = strrchr(m, ',');
      char pres[40];
      if (comma) {
        const char *w = comma + 1;
        const char *dash = strchr(w, '-');
        if (!dash) {
          x->wmin = parse_width(w, strlen(w));
        } else {
          x->wmin = parse_width(w, (size_t)(dash - w));
          x->wmax = parse_width(dash + 1, strlen(dash + 1));
        }
        snprintf(pres, sizeof pres, "%.*s", (int)(comma - m - 1), m + 1);
      } else {
        snprintf(pres, sizeof pres, "%s", mn ? m + 1 : "");
      }
      size_t pl = strlen(pres);
      if (pl == 1) {
        snprintf(x->pres1, sizeof x->pres1, "%s", pres);
      } else if (pl > 1) {
        char last = pres[pl - 1];
        if (strchr("atco", last)) {
          x->pres2 = last;
          pres[pl - 1] = '\0';
        }
        snprintf(x->pres1, sizeof x->pres1, "%s", pres);
      } else {
        static const char *const defs[] = {
            "Y1", "M1",     "D1",     "d1", "Fn", "W1",  "w1",
            "X1", "x1",     "H1",     "h1", "Pn", "m01", "s01",
            "f1", "Z01:01", "z01:01", "Cn", "En"};
        const char *def = NULL;
        for (size_t k = 0; k < sizeof defs / sizeof defs[0]; k++)
          if (defs[k][0] == x->comp) def = defs[k] + 1;
        if (!def) {
          char v[8];
          snprintf(v, sizeof v, "%c", x->comp);
          orci_jthrow(C, "D3132", 0, NULL, v);
        }
        snprintf(x->pres1, sizeof x->pres1, "%s", def);
      }
      if (x->pres1[0] == 'n') {
        x->names = C_LOWER + 1;
      } else if (x->pres1[0] == 'N') {
        x->names = x->pres1[1] == 'n' ? C_TITLE + 1 : C_UPPER + 1;
      } else if (x->comp && strchr("YMDdFWwXxHhmsf", x->comp)) {
        char ip[64];
        snprintf(ip, sizeof ip, "%s%s%c", x->pres1, x->pres2 ? ";" : "",
                 x->pres2);
        analyse_int(C, ip, strlen(ip), &x->f);
        x->has_int = 1;
        if (x->wmin >= 0 && x->f.mandatory < x->wmin) x->f.mandatory = x->wmin;
        if (x->comp == 'Y') {
          x->n = -1;
          if (x->wmax >= 0) {
            x->n = x->wmax;
            x->f.mandatory = x->n;
          } else {
            int w = x->f.mandatory + x->f.optional;
            if (w >= 2) x->n = w;
          }
        }
        if (d.n > 0 && d.p[d.n - 1].has_int)
          d.p[d.n - 1].f.parse_width = d.p[d.n - 1].f.mandatory;
      }
      if (x->comp == 'Z' || x->comp == 'z') {
        analyse_int(C, x->pres1, strlen(x->pres1), &x->f);
        x->has_int = 1;
      }
      d.n++;
      start = pos + 1;
    }
    pos++;
  }
  add_lit(C, &d, pic + start, pos > start ? pos - start : 0, &cap);
  return d;
}

static void case_name(tbuf *o, int names) {
  if (names == C_UPPER + 1)
    upper(o);
  else if (names == C_LOWER + 1)
    lower(o);
}

static void format_part(jctx *C, tbuf *b, const dt *t, const dpart *x, int oh,
                        int om) {
  char c = x->comp;
  tbuf o;
  o.n = 0;
  o.p[0] = '\0';
  if (c && strchr("YMDdFWwXxHhms", c)) {
    double v = fragment(t, c);
    if (c == 'Y' && x->n != -1) v = fmod(v, pow(10, x->n));
    if (x->names) {
      if (c == 'M' || c == 'x')
        tb_add(&o, MONTHS[(int)v - 1]);
      else if (c == 'F')
        tb_add(&o, DAYS[(int)v]);
      else {
        char vb[8];
        snprintf(vb, sizeof vb, "%c", c);
        orci_jthrow(C, "D3133", 0, NULL, vb);
      }
      case_name(&o, x->names);
      if (x->wmax >= 0 && (int)o.n > x->wmax) {
        o.n = (size_t)x->wmax;
        o.p[o.n] = '\0';
      }
    } else {
      format_int(C, &o, v, &x->f);
    }
  } else if (c == 'f') {
    format_int(C, &o, fragment(t, 'f'), &x->f);
  } else if (c == 'Z' || c == 'z') {
    int offset = oh * 100 + om;
    if (x->f.regular) {
      format_int(C, &o, offset, &x->f);
    } else {
      int nd = x->f.mandatory;
      if (nd == 1 || nd == 2) {
        format_int(C, &o, oh, &x->f);
        if (om != 0) {
          char mm[16];
          snprintf(mm, sizeof mm, ":%02d", om < 0 ? -om : om);
          tb_add(&o, mm);
        }
      } else if (nd == 3 || nd == 4) {
        format_int(C, &o, offset, &x->f);
      } else {
        orci_jthrow(C, "D3134", 0, NULL, NULL);
      }
    }
    tbuf z;
    z.n = 0;
    z.p[0] = '\0';
    if (c == 'z') tb_add(&z, "GMT");
    if (offset >= 0) tb_add(&z, "+");
    tb_add(&z, o.p);
    o = z;
    if (offset == 0 && x->pres2 == 't') {
      o.n = 0;
      tb_add(&o, "Z");
    }
  } else if (c == 'P') {
    tb_add(&o, t->hour >= 12 ? "pm" : "am");
    if (x->names == C_UPPER + 1) upper(&o);
  } else if (c == 'C' || c == 'E') {
    tb_add(&o, "ISO");
  } else {
    tb_add(&o, "undefined"); /* what jsonata-js prints for these */
  }
  tb_add(b, o.p);
}

jv orci_jfn_from_millis(jctx *C, double ms, jv picture, jv tz, int position) {
  (void)position;
  int oh = 0, om = 0;
  if (tz.t == JV_STR) {
    char t[32];
    snprintf(t, sizeof t, "%.*s", (int)(tz.u.s.n > 30 ? 30 : tz.u.s.n),
             tz.u.s.p);
    long off = strtol(t, NULL, 10); /* parseInt */
    oh = (int)floor((double)off / 100);
    om = (int)(off % 100);
  }
  static const char ISO[] =
      "[Y0001]-[M01]-[D01]T[H01]:[m01]:[s01].[f001][Z01:01t]";
  dspec d = picture.t == JV_STR ? analyse_dt(C, picture.u.s.p, picture.u.s.n)
                                : analyse_dt(C, ISO, sizeof ISO - 1);
  dt t;
  split_ms(ms + (60.0 * oh + om) * 60000.0, &t);
  tbuf b;
  b.n = 0;
  b.p[0] = '\0';
  for (int i = 0; i < d.n; i++) {
    if (d.p[i].literal)
      tb_addn(&b, d.p[i].lit, d.p[i].litn);
    else
      format_part(C, &b, &t, &d.p[i], oh, om);
  }
  return orci_jstr_copy(C, b.p, b.n);
}

/* the regex that matches one part, into r */
static void part_regex(jctx *C, tbuf *r, const dpart *x) {
  if (x->literal) {
    for (size_t i = 0; i < x->litn; i++) {
      if (strchr(".*+?^${}()|[]\\/", x->lit[i])) tb_add(r, "\\");
      tb_addn(r, &x->lit[i], 1);
    }
    return;
  }
  if (x->comp == 'Z' || x->comp == 'z') {
    if (x->comp == 'z') tb_add(r, "GMT");
    tb_add(r, "[-+][0-9]+");
    if (x->f.regular) {
      tb_add(r, "\\");
      tb_cp(r, x->f.reg_char);
      tb_add(r, "[0-9]+");
    }
    return;
  }
  if (x->comp == 'f') {
    tb_add(r, "[0-9]+");
    return;
  }
  if (x->has_int) {
    const ifmt *f = &x->f;
    switch (f->primary) {
    case P_LETTERS:
      tb_add(r, f->tcase == C_UPPER ? "[A-Z]+" : "[a-z]+");
      break;
    case P_ROMAN:
      tb_add(r, f->tcase == C_UPPER ? "[MDCLXVI]+" : "[mdclxvi]+");
      break;
    case P_WORDS: {
      /* the number words jsonata-js knows, "and", and separators */
      tb_add(r, "(?:");
      for (int i = 0; i < 20; i++) {
        tb_add(r, FEW[i]);
        tb_add(r, "|");
      }
      for (int i = 0; i < 20; i++) {
        tb_add(r, ORDS[i]);
        tb_add(r, "|");
      }
      for (int i = 0; i < 9; i++) {
        tb_add(r, DECADES[i]);
        tb_add(r, "|");
        tb_addn(r, DECADES[i], strlen(DECADES[i]) - 1);
        tb_add(r, "ieth|");
      }
      tb_add(r, "hundredth|");
      for (int i = 0; i < 4; i++) {
        tb_add(r, MAGS[i]);
        tb_add(r, "|");
        tb_add(r, MAGS[i]);
        tb_add(r, "th|");
      }
      tb_add(r, "and|[\\-, ])+");
      break;
    }
    case P_DECIMAL:
      tb_add(r, "[0-9]");
      if (f->parse_width) {
        char w[16];
        snprintf(w, sizeof w, "{%d}", f->parse_width);
        tb_add(r, w);
      } else {
        tb_add(r, "+");
      }
      if (f->ordinal) tb_add(r, "(?:th|st|nd|rd)");
      break;
    default:
      orci_jthrow(C, "D3130", 0, NULL, f->token);
    }
    return;
  }
  if (x->comp == 'M' || x->comp == 'x' || x->comp == 'F' || x->comp == 'P') {
    tb_add(r, "[a-zA-Z]+");
    return;
  }
  char v[8];
  snprintf(v, sizeof v, "%c", x->comp);
  orci_jthrow(C, "D3133", 0, NULL, v);
}

static int name_lookup(const dpart *x, const char *s, size_t n, double *v) {
  if (x->comp == 'P') {
    if (n == 2 && (s[0] | 0x20) == 'a' && (s[1] | 0x20) == 'm')
      return *v = 0, 1;
    if (n == 2 && (s[0] | 0x20) == 'p' && (s[1] | 0x20) == 'm')
      return *v = 1, 1;
    return 0;
  }
  int isday = x->comp == 'F';
  for (int i = isday ? 1 : 0; i < (isday ? 8 : 12); i++) {
    const char *name = isday ? DAYS[i] : MONTHS[i];
    size_t l = strlen(name);
    if (x->wmax >= 0 && (size_t)x->wmax < l) l = (size_t)x->wmax;
    if (l == n && !memcmp(name, s, n)) {
      *v = isday ? i : i + 1;
      return 1;
    }
  }
  return 0;
}

jv orci_jfn_to_millis(jctx *C, const char *s, size_t n, jv picture,
                      int position) {
  char vb[160];
  if (picture.t == JV_STR) {
    dspec d = analyse_dt(C, picture.u.s.p, picture.u.s.n);
    tbuf r;
    r.n = 0;
    r.p[0] = '\0';
    tb_add(&r, "^");
    for (int i = 0; i < d.n; i++) {
      tb_add(&r, "(");
      part_regex(C, &r, &d.p[i]);
      tb_add(&r, ")");
    }
    tb_add(&r, "$");
    void *re = orci_jregex_compile(C, &C->A, r.p, r.n, 1, position);
    jmatch m;
    if (!orci_jregex_exec(C, re, s, n, 0, &m)) return UNDEF;
    /* components by letter: value and whether given */
    double val[128] = {0};
    int has[128];
    memset(has, 0, sizeof has);
    int nparsed = 0;
    for (int i = 0; i < d.n && i < m.ngroups; i++) {
      const dpart *x = &d.p[i];
      if (x->literal) continue;
      const char *g = s + m.gstart[i];
      size_t gl = m.gend[i] - m.gstart[i];
      unsigned char c = (unsigned char)x->comp;
      double v = NAN;
      int ok = 1;
      nparsed++;
      if (c == 'Z' || c == 'z') {
        char t[64];
        size_t off = c == 'z' ? 3 : 0;
        snprintf(t, sizeof t, "%.*s", (int)(gl - off < 60 ? gl - off : 60),
                 g + off);
        double hours = 0, mins = 0;
        if (x->f.regular) {
          char *sep = strchr(t + 1, (int)x->f.reg_char);
          hours = strtol(t, NULL, 10);
          mins = sep ? strtol(sep + 1, NULL, 10) : 0;
        } else if (strlen(t) - 1 <= 2) {
          hours = strtol(t, NULL, 10);
        } else {
          char h[4] = {t[0], t[1], t[2], 0};
          hours = strtol(h, NULL, 10);
          mins = strtol(t + 3, NULL, 10);
        }
        v = hours * 60 + mins;
      } else if (c == 'f') {
        char t[8] = "0.";
        size_t k = 2;
        for (size_t q = 0; q < gl && q < 3; q++)
          t[k++] = g[q];
        t[k] = '\0';
        v = strtod(t, NULL) * 1000;
      } else if (x->has_int) {
        v = parse_int_by(C, g, gl, &x->f);
      } else {
        ok = name_lookup(x, g, gl, &v);
      }
      if (ok && !isnan(v)) {
        val[c] = v;
        has[c] = 1;
      }
    }
    if (nparsed == 0) return UNDEF;
    int mask = 0;
    const char *datec = "YXMxWwdD", *timec = "PHhmsf";
    for (const char *p = datec; *p; p++)
      mask = (mask << 1) | has[(int)*p];
#define IS_TYPE(type) (!(~(type)&mask) && ((type)&mask))
    int dateA = IS_TYPE(161), dateB = !dateA && IS_TYPE(130);
    int dateC = IS_TYPE(84), dateD = !dateC && IS_TYPE(72);
    mask = 0;
    for (const char *p = timec; *p; p++)
      mask = (mask << 1) | has[(int)*p];
    int timeA = IS_TYPE(23), timeB = !timeA && IS_TYPE(47);
#undef IS_TYPE
    char comps[16];
    snprintf(comps, sizeof comps, "%s%s",
             dateB   ? "YD"
             : dateC ? "XxwF"
             : dateD ? "XWF"
                     : "YMD",
             timeB ? "Phmsf" : "Hmsf");
    dt now;
    split_ms(C->now_ms, &now);
    int started = 0, ended = 0;
    for (const char *p = comps; *p; p++) {
      int c = *p;
      if (!has[c]) {
        if (started) {
          val[c] = strchr("MDd", c) ? 1 : 0;
          ended = 1;
        } else {
          val[c] = c == 'P' ? (now.hour >= 12) : fragment(&now, (char)c);
        }
      } else {
        started = 1;
        if (ended) orci_jthrow(C, "D3136", 0, NULL, NULL);
      }
    }
    if (dateC || dateD) orci_jthrow(C, "D3136", 0, NULL, NULL);
    double M = val['M'] > 0 ? val['M'] - 1 : 0, D = val['D'];
    if (dateB) {
      double first = utc((int64_t)val['Y'], 0) + (val['d'] - 1) * DAY_MS;
      dt t;
      split_ms(first, &t);
      M = t.month - 1;
      D = t.day;
    }
    double H = val['H'];
    if (timeB) {
      H = val['h'] == 12 ? 0 : val['h'];
      if (val['P'] == 1) H += 12;
    }
    double ms =
        (double)days_from_civil((int64_t)val['Y'], (int64_t)M + 1, (int64_t)D) *
            DAY_MS +
        H * 3600000.0 + val['m'] * 60000.0 + val['s'] * 1000.0 + val['f'];
    double z = has['Z'] ? val['Z'] : has['z'] ? val['z'] : 0;
    ms -= z * 60000.0;
    return orci_jnum(C, ms);
  }
  /* ^\d{4}(-[01]\d)?(-[0-3]\d)?(T[0-2]\d:[0-5]\d:[0-5]\d)?(\.\d+)?
  **   ([+-][0-2]\d:?[0-5]\d|Z)?$ */
  size_t i = 0;
  long y = 0, mo = 1, dd = 1, h = 0, mi = 0, sec = 0;
  double frac = 0;
  int offset = 0, ok = 1;
#define DIGITS(cnt, out)                                                       \
  do {                                                                         \
    long v_ = 0;                                                               \
    for (int k_ = 0; k_ < (cnt); k_++) {                                       \
      if (i >= n || s[i] < '0' || s[i] > '9') {                                \
        ok = 0;                                                                \
        break;                                                                 \
      }                                                                        \
      v_ = v_ * 10 + (s[i++] - '0');                                           \
    }                                                                          \
    (out) = v_;                                                                \
  } while (0)
  DIGITS(4, y);
  if (ok && i < n && s[i] == '-') {
    i++;
    DIGITS(2, mo);
    if (ok && i < n && s[i] == '-') {
      i++;
      DIGITS(2, dd);
    }
  }
  if (ok && i < n && s[i] == 'T') {
    i++;
    DIGITS(2, h);
    if (ok && i < n && s[i] == ':')
      i++;
    else
      ok = 0;
    if (ok) DIGITS(2, mi);
    if (ok && i < n && s[i] == ':')
      i++;
    else
      ok = 0;
    if (ok) DIGITS(2, sec);
  }
  if (ok && i < n && s[i] == '.') {
    i++;
    double scale = 0.1;
    size_t st = i;
    while (i < n && s[i] >= '0' && s[i] <= '9') {
      frac += (s[i++] - '0') * scale;
      scale /= 10;
    }
    ok = i > st;
  }
  if (ok && i < n) {
    if (s[i] == 'Z') {
      i++;
    } else if (s[i] == '+' || s[i] == '-') {
      int sign = s[i++] == '-' ? -1 : 1;
      long oh, om = 0;
      DIGITS(2, oh);
      if (ok && i < n && s[i] == ':') i++;
      if (ok) DIGITS(2, om);
      offset = sign * (int)(oh * 60 + om);
    } else {
      ok = 0;
    }
  }
#undef DIGITS
  if (!ok || i != n || mo < 1 || mo > 12 || dd < 1 || dd > 31 || h > 24) {
    snprintf(vb, sizeof vb, "\"%.*s\"", (int)(n > 100 ? 100 : n), s);
    orci_jthrow(C, "D3110", 0, NULL, vb);
  }
  double ms = (double)days_from_civil(y, mo, dd) * DAY_MS + h * 3600000.0 +
              mi * 60000.0 + sec * 1000.0 + floor(frac * 1000 + 1e-9) -
              offset * 60000.0;
  return orci_jnum(C, ms);
}

/* }====== */

/* {====== builtins */

static jv f_from_millis(jctx *C, jv *args, int nargs, jv in, jframe *e) {
  (void)in, (void)e;
  jv ms = ARG(0);
  if (ms.t == JV_UNDEF) return UNDEF;
  return orci_jfn_from_millis(C, ms.u.n, ARG(1), ARG(2), 0);
}

static jv f_to_millis(jctx *C, jv *args, int nargs, jv in, jframe *e) {
  (void)in, (void)e;
  jv s = ARG(0);
  if (s.t == JV_UNDEF) return UNDEF;
  return orci_jfn_to_millis(C, s.u.s.p, s.u.s.n, ARG(1), 0);
}

static jv f_format_integer(jctx *C, jv *args, int nargs, jv in, jframe *e) {
  (void)in, (void)e;
  jv v = ARG(0), p = ARG(1);
  if (v.t == JV_UNDEF) return UNDEF;
  return orci_jfn_format_integer(C, v.u.n, p.u.s.p, p.u.s.n, 0);
}

static jv f_parse_integer(jctx *C, jv *args, int nargs, jv in, jframe *e) {
  (void)in, (void)e;
  jv v = ARG(0), p = ARG(1);
  if (v.t == JV_UNDEF) return UNDEF;
  return orci_jfn_parse_integer(C, v.u.s.p, v.u.s.n, p.u.s.p, p.u.s.n, 0);
}

const jbuiltin orci_jtime_builtins[] = {
    {"fromMillis", "<n-s?s?:s>", f_from_millis, 0},
    {"toMillis", "<s-s?:n>", f_to_millis, 0},
    {"formatInteger", "<n-s:s>", f_format_integer, 0},
    {"parseInteger", "<s-s:n>", f_parse_integer, 0},
    {NULL, NULL, NULL, 0}};

/* }====== */
