#include "data/cell.h"

#include <errno.h>
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

int reel_cell_missing(const char *s, size_t n)
{
    while (n > 0 && (*s == ' ' || *s == '\t'))
        s++, n--;
    while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t'))
        n--;
    static const char *tokens[] = {"", "na", "n/a", "nan", "null"};
    for (size_t i = 0; i < sizeof tokens / sizeof *tokens; i++)
        if (strlen(tokens[i]) == n && strncasecmp(s, tokens[i], n) == 0)
            return 1;
    return 0;
}

int reel_is_missing_token(const char *s) { return reel_cell_missing(s, strlen(s)); }

int reel_cell_fast_number(const char *s, size_t n, double *v)
{
    static const double pow10[] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,  1e8,  1e9,  1e10, 1e11,
                                   1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};
    const char *end = s + n;
    int neg = 0;
    if (s < end && (*s == '-' || *s == '+'))
        neg = *s++ == '-';
    /* Every digit into m (19 fit in 64 bits); m < 1e15 means at most 15
     * significant ones, which a double holds exactly. */
    uint64_t m = 0;
    const char *d0 = s;
    for (; s < end && (unsigned)(*s - '0') < 10; s++)
        m = m * 10 + (uint64_t)(*s - '0');
    size_t ndig = (size_t)(s - d0), frac = 0;
    if (s < end && *s == '.') {
        const char *f0 = ++s;
        for (; s < end && (unsigned)(*s - '0') < 10; s++)
            m = m * 10 + (uint64_t)(*s - '0');
        frac = (size_t)(s - f0);
        ndig += frac;
    }
    if (ndig == 0 || ndig > 19 || m >= 1000000000000000ull)
        return 0; /* no digits, or too many for this path: strtod decides */
    int e = 0;
    if (s < end && (*s == 'e' || *s == 'E')) {
        int eneg = 0, edig = 0;
        s++;
        if (s < end && (*s == '-' || *s == '+'))
            eneg = *s++ == '-';
        for (; s < end && (unsigned)(*s - '0') < 10 && edig < 4; s++, edig++)
            e = e * 10 + (*s - '0');
        if (!edig)
            return 0;
        e = eneg ? -e : e;
    }
    if (s != end)
        return 0; /* trailing text (or spaces, or a long exponent): the slow path decides */
    e -= (int)frac;
    if (e < -22 || e > 22)
        return 0;
    double x = (double)m;
    x = e < 0 ? x / pow10[-e] : x * pow10[e];
    *v = neg ? -x : x;
    return 1;
}

int reel_cell_number(const char *s, double *v)
{
    while (*s == ' ' || *s == '\t')
        s++;
    if (!*s || strpbrk(s, "xX")) /* no hex floats: "0x1F" is a code, not 31 */
        return 0;
    char *end;
    errno = 0;
    *v = strtod(s, &end);
    if (end == s)
        return 0;
    while (*end == ' ' || *end == '\t')
        end++;
    if (*end)
        return 0;
    if (errno == ERANGE && *v == 0.0)
        return 2; /* a non-zero number below the smallest double */
    return 1;
}

const char *reel_feature_number_why(double v)
{
    if (!isfinite(v))
        return "is not a finite number";
    if (fabs(v) > FLT_MAX)
        return "is beyond the range of float32 (about 3.4e38), which reel's feature matrices hold";
    if (v != 0 && (float)v == 0)
        return "is too small for float32 (below about 1.4e-45, it would read as 0), which reel's feature "
               "matrices hold";
    return NULL;
}

const char *reel_cell_number_why(int parsed, double v)
{
    if (parsed == 2)
        return "is too small for a double (it would read as 0)";
    return reel_feature_number_why(v);
}

size_t reel_utf8_len(const unsigned char *p, size_t n)
{
    unsigned char b = p[0];
    size_t k = b < 0xC2 ? 0 : b < 0xE0 ? 2 : b < 0xF0 ? 3 : b < 0xF5 ? 4 : 0;
    if (k == 0 || k > n)
        return 0;
    for (size_t i = 1; i < k; i++)
        if ((p[i] & 0xC0) != 0x80)
            return 0;
    if ((b == 0xE0 && p[1] < 0xA0) || (b == 0xED && p[1] > 0x9F) || (b == 0xF0 && p[1] < 0x90) ||
        (b == 0xF4 && p[1] > 0x8F))
        return 0; /* overlong, a surrogate, or beyond U+10FFFF */
    return k;
}
