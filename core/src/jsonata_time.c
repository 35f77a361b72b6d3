/*
** JSONata date/time and integer pictures: $fromMillis, $toMillis, $now's
** formatting, $formatInteger and $parseInteger (XPath F&O 3.1 pictures as
** jsonata-js implements them).
*/
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jsonata_int.h"

#define UNDEF  orci_jundef()
#define ARG(i) ((i) < nargs ? args[(i)] : orci_jundef())

static int strncasecmp_(const char *a, const char *b, size_t n) {
  for (size_t i = 0; i < n; i++) {
    int x = (unsigned char)a[i], y = (unsigned char)b[i];
    if (x >= 'A' && x <= 'Z') x += 32;
    if (y >= 'A' && y <= 'Z') y += 32;
    if (x != y) return x - y;
    if (!x) return 0;
  }
  return 0;
}

/* {====== calendar (proleptic Gregorian, UTC) */

static int64_t days_from_civil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = (unsigned)(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + (int64_t)doe - 719468;
}

static void civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d) {
  z += 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const unsigned doe = (unsigned)(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const int64_t yy = (int64_t)yoe + era * 400;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  *d = doy - (153 * mp + 2) / 5 + 1;
  *m = mp < 10 ? mp + 3 : mp - 9;
  *y = yy + (*m <= 2);
}

typedef struct dt {
  int64_t year;
  unsigned month, day, hour, minute, second, ms;
  int wday;     /* 1 = Monday .. 7 = Sunday */
  int yday;     /* 1-based day of the year */
  int64_t days; /* days since the epoch */
} dt;

static void split_millis(double ms, int offset_min, dt *t) {
  double local = ms + offset_min * 60000.0;
  int64_t days = (int64_t)floor(local / 86400000.0);
  int64_t rem = (int64_t)(local - (double)days * 86400000.0);
  civil_from_days(days, &t->year, &t->month, &t->day);
  t->days = days;
  t->hour = (unsigned)(rem / 3600000);
  t->minute = (unsigned)(rem / 60000 % 60);
  t->second = (unsigned)(rem / 1000 % 60);
  t->ms = (unsigned)(rem % 1000);
  int w = (int)((days % 7 + 7 + 3) % 7); /* 1970-01-01 was a Thursday */
  t->wday = w + 1;
  t->yday = (int)(days - days_from_civil(t->year, 1, 1)) + 1;
}

/* }====== */

/* {====== integer pictures */

static const char *const FEW[] = {
    "zero",    "one",     "two",       "three",    "four",
    "five",    "six",     "seven",     "eight",    "nine",
    "ten",     "eleven",  "twelve",    "thirteen", "fourteen",
    "fifteen", "sixteen", "seventeen", "eighteen", "nineteen"};
static const char *const ORDS[] = {
    "zeroth",    "first",     "second",      "third",      "fourth",
    "fifth",     "sixth",     "seventh",     "eighth",     "ninth",
    "tenth",     "eleventh",  "twelfth",     "thirteenth", "fourteenth",
    "fifteenth", "sixteenth", "seventeenth", "eighteenth", "nineteenth"};
static const char *const DECADES[] = {"twenty", "thirty", "forty",
                                      "fifty",  "sixty",  "seventy",
                                      "eighty", "ninety", "hundred"};
static const char *const MAGS[] = {"thousand", "million", "billion",
                                   "trillion"};

typedef struct tbuf {
  char p[512];
  size_t n;
} tbuf;

static void tb_add(tbuf *b, const char *s) {
  size_t l = strlen(s);
  if (b->n + l >= sizeof b->p) l = sizeof b->p - 1 - b->n;
  memcpy(b->p + b->n, s, l);
  b->n += l;
  b->p[b->n] = '\0';
}

static void words(tbuf *b, double v, int ordinal, int prefix_and) {
  if (v <= 19) {
    if (prefix_and) tb_add(b, " and ");
    tb_add(b, ordinal ? ORDS[(int)v] : FEW[(int)v]);
  } else if (v < 100) {
    int tens = (int)(v / 10), rem = (int)fmod(v, 10);
    if (prefix_and) tb_add(b, " and ");
    if (rem == 0 && ordinal) {
      char t[32];
      snprintf(t, sizeof t, "%.*sieth", (int)strlen(DECADES[tens - 2]) - 1,
               DECADES[tens - 2]);
      tb_add(b, t);
    } else {
      tb_add(b, DECADES[tens - 2]);
      if (rem) {
        tb_add(b, "-");
        words(b, rem, ordinal, 0);
      }
    }
  } else if (v < 1000) {
    int h = (int)(v / 100), rem = (int)fmod(v, 100);
    if (prefix_and) tb_add(b, ", ");
    tb_add(b, FEW[h]);
    tb_add(b, " hundred");
    if (rem)
      words(b, rem, ordinal, 1);
    else if (ordinal)
      tb_add(b, "th");
  } else {
    int mag = (int)floor(log10(v) / 3);
    if (mag > 4) mag = 4;
    double factor = pow(10, mag * 3);
    double mant = floor(v / factor), rem = v - mant * factor;
    if (prefix_and) tb_add(b, ", ");
    words(b, mant, 0, 0);
    tb_add(b, " ");
    tb_add(b, MAGS[mag - 1]);
    if (rem > 0)
      words(b, rem, ordinal, 1);
    else if (ordinal)
      tb_add(b, "th");
  }
}

static void roman(tbuf *b, double v) {
  static const struct {
    int v;
    const char *s;
  } R[] = {{1000, "m"}, {900, "cm"}, {500, "d"}, {400, "cd"}, {100, "c"},
           {90, "xc"},  {50, "l"},   {40, "xl"}, {10, "x"},   {9, "ix"},
           {5, "v"},    {4, "iv"},   {1, "i"}};
  long n = (long)v;
  for (size_t i = 0; i < sizeof R / sizeof R[0]; i++)
    while (n >= R[i].v) {
      tb_add(b, R[i].s);
      n -= R[i].v;
    }
}

static void letters(tbuf *b, double v, char a) {
  char t[32];
  int k = 0;
  long n = (long)v;
  while (n > 0 && k < 30) {
    t[k++] = (char)(a + (n - 1) % 26);
    n = (n - 1) / 26;
  }
  for (int i = k - 1; i >= 0; i--) {
    char c[2] = {t[i], 0};
    tb_add(b, c);
  }
}

static void case_words(tbuf *b, int mode) {
  /* mode: 0 lower, 1 upper, 2 title */
  for (size_t i = 0; i < b->n; i++) {
    char c = b->p[i];
    if (mode == 1 && c >= 'a' && c <= 'z') b->p[i] = (char)(c - 32);
    if (mode == 2 && c >= 'a' && c <= 'z' &&
        (i == 0 || b->p[i - 1] == ' ' || b->p[i - 1] == '-'))
      b->p[i] = (char)(c - 32);
  }
  if (mode == 2) {
    /* jsonata-js keeps "and" lower case in title case */
    char *p = strstr(b->p, " And ");
    while (p) {
      p[1] = 'a';
      p = strstr(p + 1, " And ");
    }
  }
}

static const char *ord_suffix(long n) {
  long m100 = n % 100, m10 = n % 10;
  if (m100 >= 11 && m100 <= 13) return "th";
  return m10 == 1 ? "st" : m10 == 2 ? "nd" : m10 == 3 ? "rd" : "th";
}

/* Format v by a decimal-digit picture ("001", "#,##0", "1;o"). */
static int format_decimal(tbuf *b, double v, const char *pic, size_t pn,
                          int ordinal) {
  /* the mandatory digits and grouping separators from the right */
  int mandatory = 0, optional = 0;
  int seppos[16], nsep = 0;
  char sepch[16];
  int digits_seen = 0;
  for (long i = (long)pn - 1; i >= 0; i--) {
    char c = pic[i];
    if (c >= '0' && c <= '9') {
      mandatory++;
      digits_seen++;
    } else if (c == '#') {
      optional++;
      digits_seen++;
    } else if (nsep < 16) {
      seppos[nsep] = digits_seen;
      sepch[nsep++] = c;
    }
  }
  (void)optional;
  if (mandatory > 40) mandatory = 40; /* bounds the buffers below */
  char num[64];
  double a = fabs(v);
  snprintf(num, sizeof num, "%.0f", floor(a));
  int len = (int)strlen(num);
  char padded[96];
  int pad = mandatory > len ? mandatory - len : 0;
  memset(padded, '0', (size_t)pad);
  memcpy(padded + pad, num, (size_t)len + 1);
  len += pad;
  /* regular grouping: all separators equal and evenly spaced */
  int regular = nsep > 0 && seppos[0] > 0;
  for (int i = 0; i < nsep && regular; i++)
    if (sepch[i] != sepch[0] || seppos[i] != seppos[0] * (i + 1)) regular = 0;
  char out[256];
  int o = 0;
  int ds = 0; /* digits written from the right */
  int si = 0;
  for (int i = len - 1; i >= 0; i--) {
    if (o > 240) break;
    if (regular) {
      if (ds > 0 && ds % seppos[0] == 0) out[o++] = sepch[0];
    } else if (si < nsep && seppos[si] == ds && ds > 0) {
      out[o++] = sepch[si++];
    }
    out[o++] = padded[i];
    ds++;
  }
  if (v < 0) out[o++] = '-';
  for (int i = o - 1; i >= 0; i--) {
    char c[2] = {out[i], 0};
    tb_add(b, c);
  }
  if (ordinal) tb_add(b, ord_suffix((long)a));
  return 1;
}

static void format_integer_into(jctx *C, tbuf *b, double v, const char *pic,
                                size_t pn) {
  int ordinal = 0;
  size_t body = pn;
  const char *semi = memchr(pic, ';', pn);
  if (semi) {
    body = (size_t)(semi - pic);
    if (memchr(semi, 'o', pn - body)) ordinal = 1;
  }
  if (body == 1 && (pic[0] == 'A' || pic[0] == 'a')) {
    letters(b, v, pic[0]);
  } else if (body == 1 && (pic[0] == 'I' || pic[0] == 'i')) {
    roman(b, v);
    if (pic[0] == 'I') case_words(b, 1);
  } else if ((body == 1 && (pic[0] == 'w' || pic[0] == 'W')) ||
             (body == 2 && !memcmp(pic, "Ww", 2))) {
    if (v < 0) tb_add(b, "minus "), v = -v;
    words(b, floor(v), ordinal, 0);
    case_words(b, pic[0] == 'w' ? 0 : body == 2 ? 2 : 1);
  } else {
    int ok = body > 0;
    for (size_t i = 0; i < body; i++)
      if (!((pic[i] >= '0' && pic[i] <= '9') || pic[i] == '#' ||
            !(((unsigned char)pic[i]) & 0x80)))
        ok = 0;
    if (!ok) {
      /* digits from another decimal group (non-ASCII) */
      char vb[32];
      snprintf(vb, sizeof vb, "%.*s", (int)(body > 8 ? 8 : body), pic);
      orci_jthrow(C, "D3130", 0, NULL, vb);
    }
    format_decimal(b, v, pic, body, ordinal);
  }
}

jv orci_jfn_format_integer(jctx *C, double v, const char *pic, size_t pn,
                           int position) {
  (void)position;
  tbuf b;
  memset(&b, 0, sizeof b);
  format_integer_into(C, &b, v, pic, pn);
  return orci_jstr_copy(C, b.p, b.n);
}

jv orci_jfn_parse_integer(jctx *C, const char *s, size_t n, const char *pic,
                          size_t pn, int position) {
  (void)position;
  size_t body = pn;
  const char *semi = memchr(pic, ';', pn);
  if (semi) body = (size_t)(semi - pic);
  if (body == 1 && (pic[0] == 'I' || pic[0] == 'i')) {
    static const char R[] = "ivxlcdm";
    static const int V[] = {1, 5, 10, 50, 100, 500, 1000};
    double total = 0;
    int prev = 0;
    for (long i = (long)n - 1; i >= 0; i--) {
      char c = s[i];
      if (c >= 'A' && c <= 'Z') c = (char)(c + 32);
      const char *p = strchr(R, c);
      if (!p || !c) continue;
      int val = V[p - R];
      if (val < prev)
        total -= val;
      else
        total += val, prev = val;
    }
    return orci_jnum(C, total);
  }
  if (body == 1 && (pic[0] == 'A' || pic[0] == 'a')) {
    double total = 0;
    for (size_t i = 0; i < n; i++)
      total = total * 26 + (double)((s[i] | 0x20) - 'a' + 1);
    return orci_jnum(C, total);
  }
  if ((body == 1 && (pic[0] == 'w' || pic[0] == 'W')) ||
      (body == 2 && !memcmp(pic, "Ww", 2))) {
    /* words: sum of units scaled by magnitudes */
    static const char *const UNITS[] = {
        "zero",    "one",     "two",       "three",    "four",
        "five",    "six",     "seven",     "eight",    "nine",
        "ten",     "eleven",  "twelve",    "thirteen", "fourteen",
        "fifteen", "sixteen", "seventeen", "eighteen", "nineteen"};
    double total = 0, current = 0;
    size_t i = 0;
    while (i < n) {
      while (i < n && (s[i] == ' ' || s[i] == '-' || s[i] == ','))
        i++;
      size_t st = i;
      while (i < n && s[i] != ' ' && s[i] != '-' && s[i] != ',')
        i++;
      char w[32];
      size_t wl = i - st < 31 ? i - st : 31;
      for (size_t k = 0; k < wl; k++)
        w[k] = (char)((s[st + k] >= 'A' && s[st + k] <= 'Z') ? s[st + k] + 32
                                                             : s[st + k]);
      w[wl] = '\0';
      if (!wl || !strcmp(w, "and")) continue;
      /* ordinal forms map back to cardinals */
      int found = 0;
      for (int k = 0; k < 20 && !found; k++)
        if (!strcmp(w, UNITS[k]) || !strcmp(w, ORDS[k]))
          current += k, found = 1;
      for (int k = 0; k < 8 && !found; k++) {
        char ord[32];
        snprintf(ord, sizeof ord, "%.*sieth", (int)strlen(DECADES[k]) - 1,
                 DECADES[k]);
        if (!strcmp(w, DECADES[k]) || !strcmp(w, ord))
          current += (k + 2) * 10, found = 1;
      }
      if (!found && (!strcmp(w, "hundred") || !strcmp(w, "hundredth")))
        current *= 100, found = 1;
      for (int k = 0; k < 4 && !found; k++) {
        char ord[32];
        snprintf(ord, sizeof ord, "%sth", MAGS[k]);
        if (!strcmp(w, MAGS[k]) || !strcmp(w, ord)) {
          total += current * pow(10, 3 * (k + 1));
          current = 0;
          found = 1;
        }
      }
    }
    return orci_jnum(C, total + current);
  }
  /* decimal: digits with separators dropped */
  double v = 0;
  int neg = 0, any = 0;
  for (size_t i = 0; i < n; i++) {
    if (s[i] == '-' && !any) neg = 1;
    if (s[i] >= '0' && s[i] <= '9') {
      v = v * 10 + (s[i] - '0');
      any = 1;
    }
  }
  if (!any) return UNDEF;
  return orci_jnum(C, neg ? -v : v);
}

/* }====== */

/* {====== date/time pictures */

static const char *const DAYS[] = {"",          "Monday",   "Tuesday",
                                   "Wednesday", "Thursday", "Friday",
                                   "Saturday",  "Sunday"};
static const char *const MONTHS[] = {
    "January", "February", "March",     "April",   "May",      "June",
    "July",    "August",   "September", "October", "November", "December"};

static int parse_tz(const char *s, size_t n, int *offset) {
  /* "+hhmm", "-hh:mm", "Z" */
  if (n == 0) return 0;
  int sign = s[0] == '-' ? -1 : 1;
  if (s[0] != '+' && s[0] != '-') return 0;
  int digits[4], nd = 0;
  for (size_t i = 1; i < n && nd < 4; i++)
    if (s[i] >= '0' && s[i] <= '9') digits[nd++] = s[i] - '0';
  if (nd < 2) return 0;
  int h = digits[0] * 10 + digits[1];
  int m = nd >= 4 ? digits[2] * 10 + digits[3] : 0;
  if (nd == 3) return 0;
  *offset = sign * (h * 60 + m);
  return 1;
}

/* ISO week-numbering helpers */
static int64_t iso_week_start(int64_t year) {
  int64_t jan4 = days_from_civil(year, 1, 4);
  int w = (int)((jan4 % 7 + 7 + 3) % 7); /* 0 = Monday */
  return jan4 - w;
}

static void component_value(const dt *t, char comp, double *v,
                            const char **name, int offset_min) {
  *name = NULL;
  switch (comp) {
  case 'Y':
    *v = (double)t->year;
    break;
  case 'M':
    *v = t->month, *name = MONTHS[t->month - 1];
    break;
  case 'D':
    *v = t->day;
    break;
  case 'd':
    *v = t->yday;
    break;
  case 'F':
    *v = t->wday, *name = DAYS[t->wday];
    break;
  case 'W': {
    int64_t y = t->year;
    int64_t start = iso_week_start(y);
    if (t->days < start)
      start = iso_week_start(--y);
    else if (t->days >= iso_week_start(y + 1))
      start = iso_week_start(++y);
    *v = (double)((t->days - start) / 7 + 1);
    break;
  }
  case 'w': {
    /* week of the month: weeks start on Monday; a week belongs to the
    ** month holding its Thursday */
    int64_t first = days_from_civil(t->year, t->month, 1);
    int w = (int)((first % 7 + 7 + 3) % 7);
    int64_t start = w <= 3 ? first - w : first + (7 - w);
    if (t->days < start) {
      int64_t y = t->year;
      unsigned m = t->month - 1;
      if (m == 0) m = 12, y--;
      first = days_from_civil(y, m, 1);
      w = (int)((first % 7 + 7 + 3) % 7);
      start = w <= 3 ? first - w : first + (7 - w);
    } else {
      int64_t y = t->year;
      unsigned m = t->month + 1;
      if (m == 13) m = 1, y++;
      int64_t nfirst = days_from_civil(y, m, 1);
      int nw = (int)((nfirst % 7 + 7 + 3) % 7);
      int64_t nstart = nw <= 3 ? nfirst - nw : nfirst + (7 - nw);
      if (t->days >= nstart) start = nstart;
    }
    *v = (double)((t->days - start) / 7 + 1);
    break;
  }
  case 'X': {
    int64_t y = t->year;
    if (t->days < iso_week_start(y))
      y--;
    else if (t->days >= iso_week_start(y + 1))
      y++;
    *v = (double)y;
    break;
  }
  case 'x': {
    int64_t first = days_from_civil(t->year, t->month, 1);
    int w = (int)((first % 7 + 7 + 3) % 7);
    int64_t start = w <= 3 ? first - w : first + (7 - w);
    unsigned m = t->month;
    if (t->days < start)
      m = m == 1 ? 12 : m - 1;
    else {
      int64_t y = t->year;
      unsigned nm = t->month + 1;
      if (nm == 13) nm = 1, y++;
      int64_t nfirst = days_from_civil(y, nm, 1);
      int nw = (int)((nfirst % 7 + 7 + 3) % 7);
      int64_t nstart = nw <= 3 ? nfirst - nw : nfirst + (7 - nw);
      if (t->days >= nstart) m = nm;
    }
    *v = m, *name = MONTHS[m - 1];
    break;
  }
  case 'H':
    *v = t->hour;
    break;
  case 'h':
    *v = t->hour % 12 == 0 ? 12 : t->hour % 12;
    break;
  case 'P':
    *v = 0, *name = t->hour >= 12 ? "pm" : "am";
    break;
  case 'm':
    *v = t->minute;
    break;
  case 's':
    *v = t->second;
    break;
  case 'f':
    *v = t->ms;
    break;
  case 'Z':
  case 'z':
    *v = offset_min;
    break;
  case 'C':
    *v = 0, *name = "ISO";
    break;
  case 'E':
    *v = 0, *name = "ISO";
    break;
  default:
    *v = 0;
  }
}

static void format_component(jctx *C, tbuf *b, const dt *t, const char *m,
                             size_t mn, int offset_min) {
  char comp = m[0];
  if (!strchr("YMDdFWwXxHhPmsfZzCE", comp)) {
    char vb[8];
    snprintf(vb, sizeof vb, "%c", comp);
    orci_jthrow(C, "D3132", 0, NULL, vb);
  }
  double v;
  const char *name;
  component_value(t, comp, &v, &name, offset_min);
  /* presentation modifier, then width ",min-max" */
  char pres[32] = "";
  size_t pi = 1, pl = 0, comma = mn;
  /* the width modifier follows the last comma (a picture like "9,999"
  ** has grouping commas of its own) */
  for (size_t k = mn; k > 1; k--)
    if (m[k - 1] == ',') {
      comma = k - 1;
      break;
    }
  while (pi < comma && pl < 30)
    pres[pl++] = m[pi++];
  pi = comma;
  pres[pl] = '\0';
  long minw = -1, maxw = -1;
  if (pi < mn && m[pi] == ',') {
    pi++;
    if (pi < mn && m[pi] != '-') {
      if (m[pi] == '*')
        minw = -1, pi++;
      else
        minw = strtol(m + pi, NULL, 10);
      while (pi < mn && m[pi] != '-')
        pi++;
    }
    if (pi < mn && m[pi] == '-') {
      pi++;
      if (pi < mn && m[pi] != '*') maxw = strtol(m + pi, NULL, 10);
    }
  }
  int ordinal = 0;
  if (pl > 0 && (pres[pl - 1] == 'o' || pres[pl - 1] == 't') && pl > 1) {
    ordinal = pres[pl - 1] == 'o';
    pres[--pl] = '\0';
  }
  if (comp == 'Z' || comp == 'z') {
    if (pres[0] == 'Z' && pl == 1) {
      tb_add(b, "Z");
      return;
    }
    char out[32];
    int a = abs(offset_min), h = a / 60, mi = a % 60;
    const char *sign = offset_min < 0 ? "-" : "+";
    if (comp == 'z') tb_add(b, "GMT");
    if (pres[0] == '\0' || comp == 'z') {
      snprintf(out, sizeof out, "%s%02d:%02d", sign, h, mi);
    } else {
      size_t digits = 0;
      for (size_t i = 0; i < pl; i++)
        if (pres[i] >= '0' && pres[i] <= '9') digits++;
      if (digits > 4) orci_jthrow(C, "D3134", 0, NULL, NULL);
      const char *sep = strpbrk(pres, ":.");
      if (digits <= 2 && !sep) {
        if (mi)
          snprintf(out, sizeof out, "%s%0*d:%02d", sign, (int)digits, h, mi);
        else
          snprintf(out, sizeof out, "%s%0*d", sign, (int)digits, h);
      } else if (sep) {
        int hd = (int)(sep - pres);
        snprintf(out, sizeof out, "%s%0*d%c%02d", sign, hd, h, *sep, mi);
      } else {
        snprintf(out, sizeof out, "%s%0*d%02d", sign, (int)digits - 2, h, mi);
      }
    }
    if (offset_min == 0 && pres[pl ? pl - 1 : 0] == 't') {
      tb_add(b, "Z");
      return;
    }
    tb_add(b, out);
    return;
  }
  if (pl == 0) {
    switch (comp) {
    case 'F':
      strcpy(pres, "n");
      break;
    case 'P':
      strcpy(pres, "n");
      break;
    case 'C':
    case 'E':
      strcpy(pres, "n");
      break;
    case 'M':
    case 'D':
    case 'd':
    case 'H':
    case 'h':
    case 'W':
    case 'w':
    case 'x':
    case 'X':
    case 'Y':
      strcpy(pres, "1");
      break;
    case 'm':
    case 's':
      strcpy(pres, "01");
      break;
    case 'f':
      strcpy(pres, "1");
      break;
    }
    pl = strlen(pres);
  }
  tbuf o;
  memset(&o, 0, sizeof o);
  if (pres[0] == 'N' || pres[0] == 'n') {
    if (!name) {
      char vb[8];
      snprintf(vb, sizeof vb, "%c", comp);
      orci_jthrow(C, "D3133", 0, NULL, vb);
    }
    tb_add(&o, name);
    if (pl >= 2 && pres[0] == 'N' && pres[1] == 'n') {
      /* title case: as written */
      if (comp == 'P') case_words(&o, 2);
    } else if (pres[0] == 'N') {
      case_words(&o, 1);
    } else {
      for (size_t i = 0; i < o.n; i++)
        if (o.p[i] >= 'A' && o.p[i] <= 'Z') o.p[i] = (char)(o.p[i] + 32);
    }
    if (maxw > 0 && (long)o.n > maxw) {
      o.n = (size_t)maxw;
      o.p[o.n] = '\0';
    }
  } else if (comp == 'f') {
    /* fractional seconds: digits are positions after the point */
    char frac[8];
    snprintf(frac, sizeof frac, "%03u", t->ms);
    size_t want = 0;
    for (size_t i = 0; i < pl; i++)
      if ((pres[i] >= '0' && pres[i] <= '9') || pres[i] == '#') want++;
    if (minw > 0 && (size_t)minw > want) want = (size_t)minw;
    if (want == 1 && minw < 0 && maxw < 0 && pl == 1) {
      /* "[f1]": tenths etc. by the digit count */
    }
    char out[16];
    for (size_t i = 0; i < want && i < 15; i++)
      out[i] = i < 3 ? frac[i] : '0';
    out[want < 15 ? want : 15] = '\0';
    tb_add(&o, out);
  } else {
    double val = v;
    if (comp == 'Y' && (pl >= 2 || maxw == 2) && pres[0] != 'w' &&
        pres[0] != 'W' && pres[0] != 'I' && pres[0] != 'i') {
      /* a two-digit year picture shows the year modulo 100 */
      size_t dcount = 0;
      for (size_t i = 0; i < pl; i++)
        if ((pres[i] >= '0' && pres[i] <= '9') || pres[i] == '#') dcount++;
      if (dcount == 2 || maxw == 2) val = fmod(val, 100);
    }
    char pic[48];
    snprintf(pic, sizeof pic, "%s%s", pres, ordinal ? ";o" : "");
    format_integer_into(C, &o, val, pic, strlen(pic));
    if (minw > 0 && pres[0] >= '0' && pres[0] <= '9') {
      while ((long)o.n < minw && o.n + 2 < sizeof o.p) {
        memmove(o.p + 1, o.p, o.n + 1);
        o.p[0] = '0';
        o.n++;
      }
    }
    if (maxw > 0 && (long)o.n > maxw && comp == 'Y') {
      memmove(o.p, o.p + o.n - (size_t)maxw, (size_t)maxw + 1);
      o.n = (size_t)maxw;
    }
  }
  tb_add(b, o.p);
}

jv orci_jfn_from_millis(jctx *C, double ms, jv picture, jv tz, int position) {
  (void)position;
  int offset = 0;
  if (tz.t == JV_STR) parse_tz(tz.u.s.p, tz.u.s.n, &offset);
  dt t;
  split_millis(ms, offset, &t);
  if (picture.t != JV_STR) {
    char out[64];
    if (t.year >= 0 && t.year <= 9999)
      snprintf(out, sizeof out, "%04lld-%02u-%02uT%02u:%02u:%02u.%03uZ",
               (long long)t.year, t.month, t.day, t.hour, t.minute, t.second,
               t.ms);
    else
      snprintf(out, sizeof out, "%+07lld-%02u-%02uT%02u:%02u:%02u.%03uZ",
               (long long)t.year, t.month, t.day, t.hour, t.minute, t.second,
               t.ms);
    return orci_jstr_copy(C, out, strlen(out));
  }
  const char *p = picture.u.s.p;
  size_t n = picture.u.s.n;
  tbuf b;
  memset(&b, 0, sizeof b);
  for (size_t i = 0; i < n;) {
    if (p[i] == '[') {
      if (i + 1 < n && p[i + 1] == '[') {
        tb_add(&b, "[");
        i += 2;
        continue;
      }
      size_t e = i + 1;
      while (e < n && p[e] != ']')
        e++;
      if (e >= n) orci_jthrow(C, "D3135", 0, NULL, NULL);
      /* whitespace inside a marker is ignored */
      char m[64];
      size_t mn = 0;
      for (size_t k = i + 1; k < e && mn < 63; k++)
        if (p[k] != ' ' && p[k] != '\t' && p[k] != '\n') m[mn++] = p[k];
      m[mn] = '\0';
      if (mn) format_component(C, &b, &t, m, mn, offset);
      i = e + 1;
    } else if (p[i] == ']' && i + 1 < n && p[i + 1] == ']') {
      tb_add(&b, "]");
      i += 2;
    } else {
      char c[2] = {p[i], 0};
      tb_add(&b, c);
      i++;
    }
  }
  return orci_jstr_copy(C, b.p, b.n);
}

static int digits_at(const char *s, size_t n, size_t *i, int count, long *out) {
  long v = 0;
  for (int k = 0; k < count; k++) {
    if (*i >= n || s[*i] < '0' || s[*i] > '9') return 0;
    v = v * 10 + (s[(*i)++] - '0');
  }
  *out = v;
  return 1;
}

jv orci_jfn_to_millis(jctx *C, const char *s, size_t n, jv picture,
                      int position) {
  (void)position;
  char vb[120];
  if (picture.t == JV_STR) {
    /* picture parsing: numeric components in order, names for months */
    long vals[8] = {1970, 1, 1, 0, 0, 0, 0, 0};
    int have[8] = {0};
    int offset = 0;
    const char *p = picture.u.s.p;
    size_t pn = picture.u.s.n, i = 0;
    int pm = -1;
    for (size_t k = 0; k < pn;) {
      if (p[k] == '[') {
        size_t e = k + 1;
        while (e < pn && p[e] != ']')
          e++;
        char comp = p[k + 1];
        const char *mod = p + k + 2;
        size_t ml = e > k + 2 ? e - k - 2 : 0;
        int slot = comp == 'Y'                  ? 0
                   : comp == 'M'                ? 1
                   : comp == 'D'                ? 2
                   : comp == 'H' || comp == 'h' ? 3
                   : comp == 'm'                ? 4
                   : comp == 's'                ? 5
                   : comp == 'f'                ? 6
                   : comp == 'd'                ? 7
                                                : -1;
        if (comp == 'P') {
          if (i + 1 < n) {
            pm = (s[i] == 'p' || s[i] == 'P');
            i += 2;
          }
        } else if (comp == 'Z' || comp == 'z') {
          if (comp == 'z' && i + 3 <= n && !memcmp(s + i, "GMT", 3)) i += 3;
          size_t st = i;
          if (i < n && s[i] == 'Z') {
            i++;
          } else {
            i++;
            while (i < n && ((s[i] >= '0' && s[i] <= '9') || s[i] == ':'))
              i++;
            parse_tz(s + st, i - st, &offset);
          }
        } else if (comp == 'F') {
          while (i < n && ((s[i] | 0x20) >= 'a' && (s[i] | 0x20) <= 'z'))
            i++;
        } else if (slot >= 0) {
          if (comp == 'M' && ml > 0 && (mod[0] == 'N' || mod[0] == 'n')) {
            for (int mo = 0; mo < 12; mo++) {
              size_t l = 3;
              while (l <= strlen(MONTHS[mo])) {
                if (i + l <= n && !strncasecmp_(s + i, MONTHS[mo], l)) break;
                l++;
              }
            }
            int found = 0;
            for (int mo = 0; mo < 12 && !found; mo++) {
              size_t full = strlen(MONTHS[mo]);
              if (i + full <= n && !strncasecmp_(s + i, MONTHS[mo], full)) {
                vals[1] = mo + 1, i += full, found = 1;
              } else if (i + 3 <= n && !strncasecmp_(s + i, MONTHS[mo], 3)) {
                vals[1] = mo + 1, i += 3, found = 1;
              }
            }
            have[1] = found;
          } else {
            long v = 0;
            int nd = 0;
            size_t maxd = 100;
            if (ml > 0 && mod[0] >= '0' && mod[0] <= '9' &&
                !(k + 2 < pn && e + 1 < pn && p[e + 1] != '[' && 0)) {
              size_t d = 0;
              for (size_t q = 0; q < ml && mod[q] >= '0' && mod[q] <= '9'; q++)
                d++;
              /* adjacent numeric markers need fixed widths */
              if (e + 1 < pn && p[e + 1] == '[') maxd = d;
            }
            while (i < n && s[i] >= '0' && s[i] <= '9' && (size_t)nd < maxd) {
              v = v * 10 + (s[i++] - '0');
              nd++;
            }
            if (nd == 0) {
              snprintf(vb, sizeof vb, "%.*s", (int)(n > 100 ? 100 : n), s);
              return UNDEF;
            }
            vals[slot] = v;
            have[slot] = 1;
          }
        }
        k = e + 1;
      } else {
        if (i < n) i++;
        k++;
      }
    }
    if (pm == 1 && vals[3] < 12) vals[3] += 12;
    if (pm == 0 && vals[3] == 12) vals[3] = 0;
    if (!have[0] && !have[1] && !have[2] && !have[7] && !have[3])
      orci_jthrow(C, "D3136", 0, NULL, NULL);
    int64_t days;
    if (have[7])
      days = days_from_civil(vals[0], 1, 1) + vals[7] - 1;
    else
      days = days_from_civil(vals[0], (unsigned)vals[1], (unsigned)vals[2]);
    double ms = (double)days * 86400000.0 + vals[3] * 3600000.0 +
                vals[4] * 60000.0 + vals[5] * 1000.0 + (double)vals[6] -
                offset * 60000.0;
    return orci_jnum(C, ms);
  }
  /* ^\d{4}(-[01]\d)?(-[0-3]\d)?(T[0-2]\d:[0-5]\d:[0-5]\d)?(\.\d+)?
  **   ([+-][0-2]\d:?[0-5]\d|Z)?$ */
  size_t i = 0;
  long y, mo = 1, d = 1, h = 0, mi = 0, sec = 0;
  double frac = 0;
  int offset = 0, ok = digits_at(s, n, &i, 4, &y);
  if (ok && i < n && s[i] == '-') {
    i++;
    ok = digits_at(s, n, &i, 2, &mo);
    if (ok && i < n && s[i] == '-') {
      i++;
      ok = digits_at(s, n, &i, 2, &d);
    }
  }
  if (ok && i < n && s[i] == 'T') {
    i++;
    ok = digits_at(s, n, &i, 2, &h) && i < n && s[i++] == ':' &&
         digits_at(s, n, &i, 2, &mi) && i < n && s[i++] == ':' &&
         digits_at(s, n, &i, 2, &sec);
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
      size_t st = i++;
      long oh, om;
      ok = digits_at(s, n, &i, 2, &oh);
      if (ok && i < n && s[i] == ':') i++;
      ok = ok && digits_at(s, n, &i, 2, &om);
      if (ok) parse_tz(s + st, i - st, &offset);
    } else {
      ok = 0;
    }
  }
  if (!ok || i != n || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 24) {
    snprintf(vb, sizeof vb, "\"%.*s\"", (int)(n > 100 ? 100 : n), s);
    orci_jthrow(C, "D3110", 0, NULL, vb);
  }
  int64_t days = days_from_civil(y, (unsigned)mo, (unsigned)d);
  double ms = (double)days * 86400000.0 + h * 3600000.0 + mi * 60000.0 +
              sec * 1000.0 + floor(frac * 1000 + 1e-9) - offset * 60000.0;
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
