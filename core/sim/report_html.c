/* sim/report_html.c - the report as one self-contained HTML page: inline
 * CSS, a summary table, breakdown tables and four line plots as inline SVG;
 * no scripts and no URLs. See report.h. */
#include "sim/report.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

/* ---- a growing text buffer ---------------------------------------------- */

typedef struct text_buf {
    char *p;
    size_t n, cap;
    bool oom;                   /* an append failed: the text is incomplete */
} text_buf;

static bool reserve(text_buf *b, size_t more)
{
    if (b->oom)
        return false;
    if (b->n + more + 1 <= b->cap)
        return true;
    size_t c = b->cap ? b->cap : 4096;
    while (c < b->n + more + 1) {
        if (c > SIZE_MAX / 2) {
            b->oom = true;
            return false;
        }
        c *= 2;
    }
    char *q = realloc(b->p, c);
    if (!q) {
        b->oom = true;
        return false;
    }
    b->p = q;
    b->cap = c;
    return true;
}

static void add_n(text_buf *b, const char *s, size_t len)
{
    if (!reserve(b, len))
        return;
    memcpy(b->p + b->n, s, len);
    b->n += len;
    b->p[b->n] = '\0';
}

static void add(text_buf *b, const char *s)
{
    add_n(b, s, strlen(s));
}

static void addf(text_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void addf(text_buf *b, const char *fmt, ...)
{
    char small[256];
    va_list ap;
    va_start(ap, fmt);
    int len = vsnprintf(small, sizeof small, fmt, ap);
    va_end(ap);
    if (len < 0) {
        b->oom = true;
        return;
    }
    if ((size_t)len < sizeof small) {
        add_n(b, small, (size_t)len);
        return;
    }
    if (!reserve(b, (size_t)len))
        return;
    va_start(ap, fmt);
    vsnprintf(b->p + b->n, (size_t)len + 1, fmt, ap);
    va_end(ap);
    b->n += (size_t)len;
}

/* s with & < > " ' escaped (text and attribute values alike). */
static void add_escaped(text_buf *b, const char *s)
{
    for (; s && *s; s++) {
        switch (*s) {
        case '&': add(b, "&amp;"); break;
        case '<': add(b, "&lt;"); break;
        case '>': add(b, "&gt;"); break;
        case '"': add(b, "&quot;"); break;
        case '\'': add(b, "&#39;"); break;
        default: add_n(b, s, 1); break;
        }
    }
}

/* ---- page parts --------------------------------------------------------- */

static const char *const colours[] = {"#1f77b4", "#d62728", "#2ca02c", "#ff7f0e",
                                      "#9467bd", "#8c564b", "#e377c2", "#17becf"};
#define N_COLOURS (sizeof colours / sizeof colours[0])

static const char style[] =
    "body{font:14px/1.4 system-ui,sans-serif;color:#222;background:#fff;margin:0}"
    "main{max-width:900px;margin:0 auto;padding:16px}"
    "h1{font-size:22px}h2{font-size:18px;margin-top:28px}"
    "table{border-collapse:collapse;margin:8px 0}"
    "th,td{border-bottom:1px solid #ddd;padding:4px 10px;text-align:right}"
    "th:first-child,td:first-child{text-align:left}"
    "thead th{border-bottom:2px solid #888}"
    "td.ratio{color:#555}"
    "figure{margin:16px 0}figcaption{font-weight:600;margin-bottom:4px}"
    "svg{max-width:100%;height:auto}"
    "svg text{font:11px system-ui,sans-serif;fill:#333}"
    "svg .grid{stroke:#e5e5e5;stroke-width:1}"
    "svg .axis{stroke:#555;stroke-width:1}"
    "svg polyline{fill:none;stroke-width:1.6}"
    ".meta{color:#555}";

static void summary_table(text_buf *b, const hoist_report *const *runs, size_t n,
                          const hoist_report_summary *sums)
{
    size_t nm;
    const hoist_report_metric *m = hoist_report_metrics(&nm);
    add(b, "<table><thead><tr><th>metric</th>");
    for (size_t i = 0; i < n; i++) {
        add(b, "<th>");
        add_escaped(b, hoist_report_name(runs[i]));
        add(b, "</th>");
    }
    for (size_t i = 1; i < n; i++) {
        add(b, "<th>");
        add_escaped(b, hoist_report_name(runs[i]));
        add(b, " / ");
        add_escaped(b, hoist_report_name(runs[0]));
        add(b, "</th>");
    }
    add(b, "</tr></thead><tbody>\n");
    for (size_t k = 0; k < nm; k++) {
        add(b, "<tr><td>");
        add_escaped(b, m[k].label);
        add(b, "</td>");
        double base = hoist_report_metric_value(&m[k], &sums[0]);
        for (size_t i = 0; i < n; i++) {
            char cell[64];
            hoist_report_format_value(&m[k], hoist_report_metric_value(&m[k], &sums[i]), cell,
                                      sizeof cell);
            add(b, "<td>");
            add_escaped(b, cell);
            add(b, "</td>");
        }
        for (size_t i = 1; i < n; i++) {
            double v = hoist_report_metric_value(&m[k], &sums[i]);
            if (base != 0)
                addf(b, "<td class=\"ratio\">%.3f&#215;</td>", v / base);
            else
                add(b, "<td class=\"ratio\">&#8211;</td>");
        }
        add(b, "</tr>\n");
    }
    add(b, "</tbody></table>\n");
}

/* One breakdown ("nodePools" or "instanceTypes") of every run as a table. */
static void breakdown_table(text_buf *b, const hoist_report *const *runs, size_t n,
                            json_t *const *docs, const char *key, const char *what)
{
    addf(b, "<table><thead><tr><th>run</th><th>%s</th><th>launched</th><th>interrupted</th>"
            "<th>machine-hours</th><th>cost</th></tr></thead><tbody>\n",
         what);
    for (size_t i = 0; i < n; i++) {
        json_t *groups = json_object_get(docs[i], key);
        /* sorted names, so the page is deterministic */
        size_t ng = json_object_size(groups);
        const char **names = ng ? calloc(ng, sizeof *names) : NULL;
        if (ng && !names) {
            b->oom = true;
            return;
        }
        size_t k = 0;
        const char *name;
        json_t *row;
        json_object_foreach(groups, name, row) names[k++] = name;
        for (size_t x = 1; x < k; x++)
            for (size_t y = x; y > 0 && strcmp(names[y - 1], names[y]) > 0; y--) {
                const char *tmp = names[y];
                names[y] = names[y - 1];
                names[y - 1] = tmp;
            }
        for (size_t x = 0; x < k; x++) {
            row = json_object_get(groups, names[x]);
            add(b, "<tr><td>");
            add_escaped(b, hoist_report_name(runs[i]));
            add(b, "</td><td>");
            add_escaped(b, names[x]);
            addf(b, "</td><td>%lld</td><td>%lld</td><td>%.3f</td><td>$%.6f</td></tr>\n",
                 (long long)json_integer_value(json_object_get(row, "launched")),
                 (long long)json_integer_value(json_object_get(row, "interrupted")),
                 json_real_value(json_object_get(row, "machine_hours")),
                 json_real_value(json_object_get(row, "cost")));
        }
        free(names);
    }
    add(b, "</tbody></table>\n");
}

/* A step of about range/target that reads well: 1, 2 or 5 x 10^k. */
static double nice_step(double range, double target)
{
    double raw = range / target;
    if (!(raw > 0))
        return 1;
    double mag = pow(10, floor(log10(raw)));
    double norm = raw / mag;
    return (norm <= 1 ? 1 : norm <= 2 ? 2 : norm <= 5 ? 5 : 10) * mag;
}

/* A tick step in hours for a range of hours. */
static double hour_step(double hours)
{
    static const double steps[] = {0.25, 0.5, 1, 2, 3, 6, 12, 24, 48, 168, 336, 720};
    if (hours <= 0.25 * 8)
        return nice_step(hours, 6);
    for (size_t i = 0; i < sizeof steps / sizeof steps[0]; i++)
        if (hours / steps[i] <= 8)
            return steps[i];
    return nice_step(hours, 6);
}

typedef double (*sample_value)(const hoist_report_sample *s);

static double v_nodes(const hoist_report_sample *s) { return (double)s->nodes; }
static double v_pending(const hoist_report_sample *s) { return (double)s->pods_pending; }
static double v_cost_rate(const hoist_report_sample *s) { return s->cost_rate; }
static double v_cpu(const hoist_report_sample *s) { return s->cpu_utilization * 100.0; }

enum { W = 860, H = 280, LEFT = 64, RIGHT = 16, TOP = 40, BOTTOM = 44 };

static void plot(text_buf *b, const hoist_report *const *runs, size_t n, const char *caption,
                 const char *y_label, sample_value value)
{
    double tmax_h = 0, ymax = 0;
    for (size_t i = 0; i < n; i++) {
        size_t ns;
        uint64_t step;
        const hoist_report_sample *s = hoist_report_series(runs[i], &ns, &step);
        for (size_t k = 0; k < ns; k++) {
            double v = value(&s[k]);
            if (v > ymax)
                ymax = v;
        }
        if (ns) {
            double h = (double)(s[ns - 1].t_ms - s[0].t_ms) / 3600000.0;
            if (h > tmax_h)
                tmax_h = h;
        }
    }
    if (!(tmax_h > 0))
        tmax_h = 1;
    double ystep = nice_step(ymax > 0 ? ymax : 1, 5);
    ymax = ymax > 0 ? ceil(ymax / ystep - 1e-9) * ystep : ystep;
    double xstep = hour_step(tmax_h);
    tmax_h = ceil(tmax_h / xstep - 1e-9) * xstep;
    const double x0 = LEFT, x1 = W - RIGHT, y0 = H - BOTTOM, y1 = TOP;
#define XPOS(h) (x0 + (h) / tmax_h * (x1 - x0))
#define YPOS(v) (y0 - (v) / ymax * (y0 - y1))

    add(b, "<figure><figcaption>");
    add_escaped(b, caption);
    addf(b, "</figcaption>\n<svg viewBox=\"0 0 %d %d\" width=\"%d\" height=\"%d\" role=\"img\" "
            "aria-label=\"",
         W, H, W, H);
    add_escaped(b, caption);
    add(b, "\">\n");
    /* grid and y ticks */
    for (int k = 0; k * ystep <= ymax + ystep * 1e-9; k++) {
        double v = k * ystep, y = YPOS(v);
        addf(b, "<line class=\"grid\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>", x0, y,
             x1, y);
        addf(b, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">%g</text>\n", x0 - 6, y + 4, v);
    }
    /* x ticks in hours */
    for (int k = 0; k * xstep <= tmax_h + xstep * 1e-9; k++) {
        double h = k * xstep, x = XPOS(h);
        addf(b, "<line class=\"axis\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>", x, y0,
             x, y0 + 5);
        addf(b, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">%g</text>\n", x, y0 + 18, h);
    }
    addf(b, "<line class=\"axis\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>", x0, y0, x1,
         y0);
    addf(b, "<line class=\"axis\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>\n", x0, y0, x0,
         y1);
    addf(b, "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\">hours since start</text>\n",
         (x0 + x1) / 2, H - 6);
    addf(b, "<text x=\"14\" y=\"%.1f\" text-anchor=\"middle\" transform=\"rotate(-90 14 %.1f)\">",
         (y0 + y1) / 2, (y0 + y1) / 2);
    add_escaped(b, y_label);
    add(b, "</text>\n");
    /* legend: one colour per run */
    double lx = x0;
    for (size_t i = 0; i < n; i++) {
        const char *name = hoist_report_name(runs[i]);
        addf(b, "<rect x=\"%.1f\" y=\"12\" width=\"14\" height=\"4\" fill=\"%s\"/>", lx,
             colours[i % N_COLOURS]);
        addf(b, "<text x=\"%.1f\" y=\"18\">", lx + 18);
        add_escaped(b, name);
        add(b, "</text>\n");
        lx += 18 + 7.0 * (double)strlen(name) + 20;
    }
    /* one line per run */
    for (size_t i = 0; i < n; i++) {
        size_t ns;
        uint64_t step;
        const hoist_report_sample *s = hoist_report_series(runs[i], &ns, &step);
        if (!ns)
            continue;
        addf(b, "<polyline stroke=\"%s\" points=\"", colours[i % N_COLOURS]);
        for (size_t k = 0; k < ns; k++) {
            double h = (double)(s[k].t_ms - s[0].t_ms) / 3600000.0;
            addf(b, "%s%.1f,%.1f", k ? " " : "", XPOS(h), YPOS(value(&s[k])));
        }
        add(b, "\"/>\n");
    }
    add(b, "</svg></figure>\n");
#undef XPOS
#undef YPOS
}

/* ---- the page ----------------------------------------------------------- */

static void page(text_buf *b, const hoist_report *const *runs, size_t n, const char *title,
                 const hoist_report_summary *sums, json_t *const *docs)
{
    add(b, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n<title>");
    add_escaped(b, title);
    add(b, "</title>\n<style>");
    add(b, style);
    add(b, "</style></head>\n<body><main>\n<h1>");
    add_escaped(b, title);
    add(b, "</h1>\n");
    if (n == 0) {
        add(b, "<p>No runs.</p>\n</main></body></html>\n");
        return;
    }
    add(b, "<p class=\"meta\">");
    for (size_t i = 0; i < n; i++) {
        size_t ns;
        uint64_t step;
        hoist_report_series(runs[i], &ns, &step);
        add(b, i ? "; " : "");
        add_escaped(b, hoist_report_name(runs[i]));
        addf(b, ": %.2f h simulated, %zu pods added, samples every %g s",
             sums[i].duration_s / 3600.0, sums[i].pods_added, (double)step / 1000.0);
    }
    add(b, ".</p>\n<h2>Summary</h2>\n");
    summary_table(b, runs, n, sums);
    add(b, "<h2>Over time</h2>\n");
    plot(b, runs, n, "Nodes alive", "nodes", v_nodes);
    plot(b, runs, n, "Pending pods", "pods", v_pending);
    plot(b, runs, n, "Cost rate (USD/h)", "USD/h", v_cost_rate);
    plot(b, runs, n, "CPU utilization (requests / allocatable of Ready nodes, %)", "%", v_cpu);
    add(b, "<h2>Per NodePool</h2>\n");
    breakdown_table(b, runs, n, docs, "nodePools", "NodePool");
    add(b, "<h2>Per instance type</h2>\n");
    breakdown_table(b, runs, n, docs, "instanceTypes", "instance type");
    add(b, "</main></body></html>\n");
}

int hoist_report_write_html(FILE *out, const hoist_report *const *runs, size_t n,
                            const char *title, hoist_err *err)
{
    text_buf b = {0};
    hoist_report_summary *sums = n ? calloc(n, sizeof *sums) : NULL;
    json_t **docs = n ? calloc(n, sizeof *docs) : NULL;
    bool oom = n && (!sums || !docs);
    for (size_t i = 0; !oom && i < n; i++) {
        hoist_report_get_summary(runs[i], &sums[i]);
        docs[i] = hoist_report_json(runs[i]);
        oom = !docs[i];
    }
    if (!oom) {
        page(&b, runs, n, title ? title : "hoist simulation", sums, docs);
        oom = b.oom;
    }
    for (size_t i = 0; docs && i < n; i++)
        json_decref(docs[i]);
    free(docs);
    free(sums);
    if (oom) {
        free(b.p);
        return hoist_errf(err, "writing the HTML report: out of memory");
    }
    errno = 0;
    bool bad = fwrite(b.p, 1, b.n, out) != b.n || fflush(out) == EOF || ferror(out);
    int saved = errno;
    free(b.p);
    if (bad)
        return hoist_errf(err, "writing the HTML report: %s",
                          saved ? strerror(saved) : "I/O error");
    return 0;
}
