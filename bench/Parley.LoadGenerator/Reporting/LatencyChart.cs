using System.Globalization;
using System.Text;

namespace Parley.LoadGenerator.Reporting;

/// <summary>
/// Draws issue #8's chart, "latency against offered rate for both servers", from a <see cref="BenchReport"/>: the
/// open-loop relay runs (those with a <c>rate</c>) grouped by target, p99 solid and p50 dashed on a log scale, and each
/// target's closed-loop saturation throughput as a dotted line. Plain ASCII SVG 1.1 with a generic font family and no
/// scripts, so it looks the same in a browser, an image viewer or a pull request, and is byte-identical for one report.
/// </summary>
internal static partial class LatencyChart
{
    private const string RelayWorkload = "relay";
    private const string RateParameter = "rate";
    private const string PairsParameter = "pairs";
    private const string SizeParameter = "size";

    // Below this share of the offered rate delivered, the server was not keeping up: its latency is then that of a
    // growing queue, not of the server, so the point is drawn hollow rather than mixed in with the honest ones.
    private const double KeepUpShare = 0.9;

    // A saturation further right than this multiple of the highest offered rate would squash the sweep into the left
    // of the chart; it is then only given in the legend.
    private const double SaturationReach = 1.5;

    private const int Width = 900;
    private const int Height = 540;
    private const double PlotLeft = 76;
    private const double PlotRight = 618;
    private const double PlotTop = 78;
    private const double PlotBottom = 462;
    private const double LegendLeft = 640;

    private const string Ink = "#222222";
    private const string Muted = "#666666";
    private const string Dashed = "6 4";
    private const string Dotted = "2 3";

    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    // Okabe-Ito: told apart by colour-blind readers too, and each target also gets its own marker shape. Yellow is
    // left out, it is unreadable on white.
    private static readonly string[] Palette = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000"];

    public static string RenderSvg(BenchReport report)
    {
        ArgumentNullException.ThrowIfNull(report);

        var sweepRuns = report.Runs.Where(IsSweepRun).ToList();
        var pairs = DistinctParameter(sweepRuns, PairsParameter);
        var sizes = DistinctParameter(sweepRuns, SizeParameter);
        var title = Title(pairs, sizes);
        var subtitle = Subtitle(report);

        var series = BuildSeries(report, sweepRuns, pairs, sizes);
        var latencies = series.SelectMany(s => s.Points).SelectMany(p => new[] { p.P50, p.P99 }).OfType<double>().ToList();

        var svg = new StringBuilder();
        svg.Append("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
        svg.Append(Inv, $"<svg xmlns=\"http://www.w3.org/2000/svg\" version=\"1.1\" width=\"{Width}\" height=\"{Height}\"")
            .Append(Inv, $" viewBox=\"0 0 {Width} {Height}\" font-family=\"sans-serif\" fill=\"{Ink}\">\n");
        svg.Append(Inv, $"<title>{Escape(title)}</title>\n");
        svg.Append(Inv, $"<rect x=\"0\" y=\"0\" width=\"{Width}\" height=\"{Height}\" fill=\"#ffffff\"/>\n");
        Text(svg, Width / 2.0, 28, title, 17, "middle", weight: "bold");
        Text(svg, Width / 2.0, 50, subtitle, 12, "middle", Muted);

        if (latencies.Count == 0)
        {
            // Still a valid image, so a pipeline that always draws the chart does not break on a report without a sweep.
            Text(svg, Width / 2.0, Height / 2.0, "no rate sweep in this report", 16, "middle", Muted);
            svg.Append("</svg>\n");
            return svg.ToString();
        }

        // X: offered rate from zero, so slopes compare honestly; in-reach saturation lines widen it.
        var highestRate = series.SelectMany(s => s.Points).Max(p => p.Offered);
        foreach (var s in series)
        {
            s.SaturationOnScale = s.Saturation is { } sat && sat <= highestRate * SaturationReach;
        }

        var xData = series.Where(s => s.SaturationOnScale).Select(s => s.Saturation!.Value).Append(highestRate).Max();
        var xStep = NiceStep(xData / 6);
        var xTicks = (int)Math.Ceiling((xData / xStep) - 1e-9);
        var xMax = xTicks * xStep;

        // Y: whole decades around the data, so every gridline is a round latency.
        var lowDecade = (int)Math.Floor(Math.Log10(latencies.Min()));
        var highDecade = (int)Math.Ceiling(Math.Log10(latencies.Max()));
        if (highDecade == lowDecade)
        {
            highDecade++;
        }

        double X(double rate) => PlotLeft + (rate / xMax * (PlotRight - PlotLeft));
        double Y(double micros) =>
            PlotBottom - ((Math.Log10(micros) - lowDecade) / (highDecade - lowDecade) * (PlotBottom - PlotTop));

        DrawYAxis(svg, lowDecade, highDecade, Y);
        DrawXAxis(svg, xTicks, xStep, X);
        DrawSaturationLines(svg, series, X);
        DrawSeries(svg, series, X, Y);
        DrawLegend(svg, series);

        svg.Append("</svg>\n");
        return svg.ToString();
    }

    private static void DrawYAxis(StringBuilder svg, int lowDecade, int highDecade, Func<double, double> y)
    {
        // With two decades or fewer the decade lines alone are too sparse to read a value off, so 2x and 5x get labels;
        // past three, lines at every 2x..9x turn the plot grey, so those get a tick on the axis only.
        var labelMinor = highDecade - lowDecade <= 2;
        var minorGrid = highDecade - lowDecade <= 3;
        for (var decade = lowDecade; decade <= highDecade; decade++)
        {
            var major = Math.Pow(10, decade);
            Line(svg, PlotLeft, y(major), PlotRight, y(major), "#cccccc", 1);
            Line(svg, PlotLeft - 6, y(major), PlotLeft, y(major), Ink, 1);
            Text(svg, PlotLeft - 8, y(major) + 4, FormatMicros(major), 12, "end");
            if (decade == highDecade)
            {
                break;
            }

            for (var m = 2; m <= 9; m++)
            {
                var minor = m * major;
                if (minorGrid)
                {
                    Line(svg, PlotLeft, y(minor), PlotRight, y(minor), "#eeeeee", 1);
                }

                Line(svg, PlotLeft - 4, y(minor), PlotLeft, y(minor), Ink, 1);
                if (labelMinor && m is 2 or 5)
                {
                    Text(svg, PlotLeft - 8, y(minor) + 4, FormatMicros(minor), 10, "end", Muted);
                }
            }
        }

        var middle = (PlotTop + PlotBottom) / 2;
        svg.Append(Inv, $"<text transform=\"translate(20 {Num(middle)}) rotate(-90)\" font-size=\"13\" text-anchor=\"middle\">")
            .Append("latency (log scale)</text>\n");
    }

    private static void DrawXAxis(StringBuilder svg, int ticks, double step, Func<double, double> x)
    {
        for (var i = 0; i <= ticks; i++)
        {
            var rate = i * step;
            if (i > 0)
            {
                Line(svg, x(rate), PlotTop, x(rate), PlotBottom, "#eeeeee", 1);
            }

            Line(svg, x(rate), PlotBottom, x(rate), PlotBottom + 5, Ink, 1);
            Text(svg, x(rate), PlotBottom + 19, FormatRate(rate), 12, "middle");
        }

        svg.Append(Inv, $"<rect x=\"{Num(PlotLeft)}\" y=\"{Num(PlotTop)}\" width=\"{Num(PlotRight - PlotLeft)}\"")
            .Append(Inv, $" height=\"{Num(PlotBottom - PlotTop)}\" fill=\"none\" stroke=\"{Ink}\" stroke-width=\"1\"/>\n");
        Text(svg, (PlotLeft + PlotRight) / 2, PlotBottom + 42, "offered rate (msg/s)", 13, "middle");
    }

    private static void DrawSaturationLines(StringBuilder svg, List<Series> series, Func<double, double> x)
    {
        // Drawn before the data so the curves stay on top. Labels run up the left of their line; when two lines are
        // close the later label moves to the bottom of the plot so the two do not print over each other.
        double? previous = null;
        var atTop = true;
        foreach (var s in series.Where(s => s.SaturationOnScale).OrderBy(s => s.Saturation))
        {
            var lineX = x(s.Saturation!.Value);
            var colour = Colour(s.Index);
            Line(svg, lineX, PlotTop, lineX, PlotBottom, colour, 1.5, Dotted);

            atTop = previous is not { } p || lineX - p >= 16 || !atTop;
            previous = lineX;
            var labelX = lineX - PlotLeft < 16 ? lineX + 13 : lineX - 4;
            var (labelY, anchor) = atTop ? (PlotTop + 6, "end") : (PlotBottom - 6, "start");
            svg.Append(Inv, $"<text transform=\"translate({Num(labelX)} {Num(labelY)}) rotate(-90)\" font-size=\"11\"")
                .Append(Inv, $" text-anchor=\"{anchor}\" fill=\"{colour}\">{Escape($"{Shorten(s.Target, 24)} saturation")}</text>\n");
        }
    }

    private static void DrawSeries(StringBuilder svg, List<Series> series, Func<double, double> x, Func<double, double> y)
    {
        // All p50 lines, then all p99 lines, then the markers: no target's line hides another's points.
        foreach (var s in series)
        {
            Polyline(svg, s.Points.Where(p => p.P50 is not null).Select(p => (x(p.Offered), y(p.P50!.Value))), Colour(s.Index), 1.4, Dashed);
        }

        foreach (var s in series)
        {
            Polyline(svg, s.Points.Where(p => p.P99 is not null).Select(p => (x(p.Offered), y(p.P99!.Value))), Colour(s.Index), 2.2, null);
        }

        foreach (var s in series)
        {
            foreach (var point in s.Points)
            {
                if (point.P50 is { } p50)
                {
                    Marker(svg, s.Index, x(point.Offered), y(p50), 2.6, Colour(s.Index), point.FellBehind);
                }

                if (point.P99 is { } p99)
                {
                    Marker(svg, s.Index, x(point.Offered), y(p99), 4.5, Colour(s.Index), point.FellBehind);
                }
            }
        }
    }

    private static void DrawLegend(StringBuilder svg, List<Series> series)
    {
        var y = PlotTop + 4;
        var textX = LegendLeft + 36;
        foreach (var s in series)
        {
            var colour = Colour(s.Index);
            Line(svg, LegendLeft, y, LegendLeft + 28, y, colour, 2.2);
            Marker(svg, s.Index, LegendLeft + 14, y, 4.5, colour, hollow: false);
            Text(svg, textX, y + 4, Shorten(s.Target, 26), 13, "start", weight: "bold");
            if (s.Saturation is { } saturation)
            {
                y += 16;
                var where = s.SaturationOnScale ? "" : " (off scale)";
                Text(svg, textX, y + 4, $"saturation {FormatRate(saturation)} msg/s{where}", 11, "start", Muted);
            }

            if (s.Points.Count == 0)
            {
                y += 16;
                Text(svg, textX, y + 4, "no rate sweep", 11, "start", Muted);
            }

            y += 24;
        }

        // The line styles once, in grey, rather than per target: the key stays short however many targets there are.
        y += 6;
        Line(svg, LegendLeft, y, LegendLeft + 28, y, Muted, 2.2);
        Marker(svg, 0, LegendLeft + 14, y, 4.5, Muted, hollow: false);
        Text(svg, textX, y + 4, "p99 latency", 12, "start");
        y += 22;
        Line(svg, LegendLeft, y, LegendLeft + 28, y, Muted, 1.4, Dashed);
        Text(svg, textX, y + 4, "p50 latency", 12, "start");
        y += 22;
        Marker(svg, 0, LegendLeft + 14, y, 4.5, Muted, hollow: true);
        Text(svg, textX, y + 4, "hollow: server could not keep up", 12, "start");
        y += 15;
        Text(svg, textX, y + 4, string.Create(Inv, $"(delivered < {KeepUpShare * 100:0} % of offered)"), 11, "start", Muted);
        if (series.Any(s => s.SaturationOnScale))
        {
            y += 24;
            Line(svg, LegendLeft + 14, y - 8, LegendLeft + 14, y + 8, Muted, 1.5, Dotted);
            Text(svg, textX, y + 4, "closed-loop saturation", 12, "start");
        }
    }

    private static void Marker(StringBuilder svg, int shape, double x, double y, double r, string colour, bool hollow)
    {
        var style = string.Create(Inv, $"fill=\"{(hollow ? "#ffffff" : colour)}\" stroke=\"{colour}\" stroke-width=\"1.5\"");
        switch (shape % 4)
        {
            case 0:
                svg.Append(Inv, $"<circle cx=\"{Num(x)}\" cy=\"{Num(y)}\" r=\"{Num(r)}\" {style}/>\n");
                break;
            case 1:
                var side = r * 1.7;
                svg.Append(Inv, $"<rect x=\"{Num(x - (side / 2))}\" y=\"{Num(y - (side / 2))}\"")
                    .Append(Inv, $" width=\"{Num(side)}\" height=\"{Num(side)}\" {style}/>\n");
                break;
            case 2:
                var t = r * 1.25;
                svg.Append(Inv, $"<polygon points=\"{Num(x)},{Num(y - t)} {Num(x + t)},{Num(y + (t * 0.8))}")
                    .Append(Inv, $" {Num(x - t)},{Num(y + (t * 0.8))}\" {style}/>\n");
                break;
            default:
                var d = r * 1.3;
                svg.Append(Inv, $"<polygon points=\"{Num(x)},{Num(y - d)} {Num(x + d)},{Num(y)}")
                    .Append(Inv, $" {Num(x)},{Num(y + d)} {Num(x - d)},{Num(y)}\" {style}/>\n");
                break;
        }
    }

    private static void Polyline(StringBuilder svg, IEnumerable<(double X, double Y)> points, string colour, double width, string? dash)
    {
        var coordinates = string.Join(" ", points.Select(p => $"{Num(p.X)},{Num(p.Y)}"));
        if (coordinates.Length == 0)
        {
            return;
        }

        svg.Append(Inv, $"<polyline points=\"{coordinates}\" fill=\"none\" stroke=\"{colour}\"")
            .Append(Inv, $" stroke-width=\"{Num(width)}\" stroke-linejoin=\"round\"{DashAttribute(dash)}/>\n");
    }

    private static void Line(
        StringBuilder svg, double x1, double y1, double x2, double y2, string colour, double width, string? dash = null) =>
        svg.Append(Inv, $"<line x1=\"{Num(x1)}\" y1=\"{Num(y1)}\" x2=\"{Num(x2)}\" y2=\"{Num(y2)}\"")
            .Append(Inv, $" stroke=\"{colour}\" stroke-width=\"{Num(width)}\"{DashAttribute(dash)}/>\n");

    private static string DashAttribute(string? dash) => dash is null ? "" : $" stroke-dasharray=\"{dash}\"";

    private static void Text(
        StringBuilder svg, double x, double y, string text, int size, string anchor, string? colour = null, string? weight = null)
    {
        var fill = colour is null ? "" : $" fill=\"{colour}\"";
        var bold = weight is null ? "" : $" font-weight=\"{weight}\"";
        svg.Append(Inv, $"<text x=\"{Num(x)}\" y=\"{Num(y)}\" font-size=\"{size}\" text-anchor=\"{anchor}\"{fill}{bold}>{Escape(text)}</text>\n");
    }

    private static string Colour(int index) => Palette[index % Palette.Length];

    /// <summary>1, 2 or 5 times a power of ten: the step between gridlines a reader can add up in their head.</summary>
    private static double NiceStep(double rough)
    {
        var magnitude = Math.Pow(10, Math.Floor(Math.Log10(rough)));
        var normalized = rough / magnitude;
        return (normalized <= 1 ? 1 : normalized <= 2 ? 2 : normalized <= 5 ? 5 : 10) * magnitude;
    }

    private static string FormatRate(double rate) =>
        rate >= 1_000_000 ? string.Create(Inv, $"{rate / 1_000_000:0.##}M")
        : rate >= 1_000 ? string.Create(Inv, $"{rate / 1_000:0.##}k")
        : rate.ToString("0.##", Inv);

    private static string FormatMicros(double micros) =>
        micros >= 1_000_000 ? string.Create(Inv, $"{micros / 1_000_000:0.###} s")
        : micros >= 1_000 ? string.Create(Inv, $"{micros / 1_000:0.###} ms")
        : string.Create(Inv, $"{micros:0.###} \u00b5s");

    // One decimal is a tenth of a pixel: finer only makes the file bigger.
    private static string Num(double value) => value.ToString("0.#", Inv);

    private static string Shorten(string text, int max) => text.Length <= max ? text : string.Concat(text.AsSpan(0, max - 1), "\u2026");

    /// <summary>
    /// Escapes markup and writes everything outside printable ASCII as a character reference, so the SVG is correct
    /// whatever encoding the caller writes it in; control characters XML cannot carry are dropped.
    /// </summary>
    private static string Escape(string text)
    {
        var escaped = new StringBuilder(text.Length);
        foreach (var rune in text.EnumerateRunes())
        {
            switch (rune.Value)
            {
                case '&': escaped.Append("&amp;"); break;
                case '<': escaped.Append("&lt;"); break;
                case '>': escaped.Append("&gt;"); break;
                case '"': escaped.Append("&quot;"); break;
                case '\'': escaped.Append("&apos;"); break;
                case < 0x20 or 0x7F: break;
                case > 0x7E: escaped.Append(Inv, $"&#x{rune.Value:X};"); break;
                default: escaped.Append((char)rune.Value); break;
            }
        }

        return escaped.ToString();
    }
}
