using System.Globalization;
using System.Text;
using Parley.LoadGenerator.Reporting;

namespace Parley.LoadGenerator.Workloads.Soak;

/// <summary>What a soak run found, its verdict, and how it is reported: a table on the terminal and a run in the JSON report.</summary>
internal sealed record SoakOutcome(SoakParameters Parameters, SoakCounters Counters, DmTotals Dms, ChatTotals Chats, HistoryTotals History,
    RoomTotals Rooms, RssTrend Rss, IReadOnlyList<RssSample> Samples, string? DrainProblem, double Seconds)
{
    /// <summary>Why the run failed; empty when it passed.</summary>
    public List<string> Failures()
    {
        List<string> failures = [];
        Add(failures, Counters.Errors.Values.Sum(), "ERRORs received");
        Add(failures, Counters.Exceptions.Values.Sum(), "exceptions");
        Add(failures, Counters.UnexpectedCloses.Values.Sum(), "unexpected closes");
        Add(failures, Counters.FailedChecks.Values.Sum(), "failed checks");
        Add(failures, Dms.Lost + Chats.Lost + History.Missing + Rooms.Lost, "messages lost");
        Add(failures, Dms.Duplicated + Chats.Duplicated + History.Duplicated + History.Unexpected + Rooms.Duplicated, "messages duplicated");
        if (Rss.Flat == false)
        {
            failures.Add($"server RSS grew {Rss.GrowthMiB:0.0} MiB in the second half");
        }

        if (DrainProblem is not null)
        {
            failures.Add(DrainProblem);
        }

        return failures;
    }

    public RunResult ToRunResult()
    {
        var metrics = new Dictionary<string, double>
        {
            ["passed"] = Failures().Count == 0 ? 1 : 0,
            ["sent_total"] = Counters.SentTotal,
            ["messages_per_s"] = Counters.SentTotal / Seconds,
            ["logons"] = Counters.LogOns,
        };
        foreach (var kind in SoakKinds.All)
        {
            metrics["sent_" + kind.WireName()] = Counters.Sent(kind);
        }

        Put(metrics, "", new
        {
            errors = Counters.Errors.Values.Sum(),
            exceptions = Counters.Exceptions.Values.Sum(),
            unexpected_closes = Counters.UnexpectedCloses.Values.Sum(),
            failed_checks = Counters.FailedChecks.Values.Sum(),
            problems = Counters.Problems,
        });
        Put(metrics, "dm_", Dms);
        Put(metrics, "chat_", Chats);
        Put(metrics, "history_", History);
        Put(metrics, "say_", Rooms);
        Put(metrics, "rss_", new { start_mib = Rss.StartMiB, mid_mib = Rss.MidMiB, end_mib = Rss.EndMiB, max_mib = Rss.MaxMiB, growth_mib = Rss.GrowthMiB });
        metrics["rss_slope_mib_per_min"] = Rss.SlopeMiBPerMinute;
        metrics["rss_flat"] = Rss.Flat switch { true => 1, false => 0, null => -1 };

        var parameters = new Dictionary<string, double>
        {
            ["clients"] = Parameters.Clients,
            ["duration_s"] = Parameters.Duration.TotalSeconds,
            ["seed"] = Parameters.Seed,
            ["rate"] = Parameters.Rate,
            ["rss_interval_s"] = Parameters.RssInterval.TotalSeconds,
        };
        List<string> notes = [.. Failures(), .. Problems().Select(p => $"{p.Kind} {p.Name}: {p.Count}"), $"RSS {Rss.Verdict}"];
        var series = new Dictionary<string, double[]>
        {
            ["rss_s"] = [.. Samples.Select(s => Math.Round(s.Seconds, 1))],
            ["rss_mib"] = [.. Samples.Select(s => Math.Round(s.Bytes / 1048576.0, 2))],
        };
        return new RunResult("soak", "parley", parameters, metrics, notes, series);
    }

    public string Render()
    {
        var text = new StringBuilder();
        var failures = Failures();
        var verdict = failures.Count == 0 ? "PASSED" : "FAILED: " + string.Join("; ", failures);
        Line(text, $"soak: {Parameters.Clients} clients for {Seconds:0} s at {Parameters.Rate:0.#} msg/s each, seed {Parameters.Seed}: {verdict}");
        Line(text, $"  sent {Counters.SentTotal:#,0} messages ({Counters.SentTotal / Seconds:#,0}/s), {Counters.LogOns:#,0} log-ons");
        var kinds = SoakKinds.All.Select(k => string.Create(CultureInfo.InvariantCulture, $"{k.WireName(),-15}{Counters.Sent(k),10:#,0}")).ToArray();
        for (var i = 0; i < kinds.Length; i += 4)
        {
            Line(text, $"    {string.Join("   ", kinds.Skip(i).Take(4))}");
        }

        Line(text, $"  problems: {Counters.Errors.Values.Sum()} ERRORs, {Counters.Exceptions.Values.Sum()} exceptions, {Counters.UnexpectedCloses.Values.Sum()} unexpected closes, {Counters.FailedChecks.Values.Sum()} failed checks");
        foreach (var (kind, name, count) in Problems())
        {
            Line(text, $"    {kind} {name}: {count}");
        }

        Line(text, $"  {"delivery",-10}{"sent",10}{"judged",10}{"lost",8}{"dup",8}  notes");
        Line(text, $"  {"DM",-10}{Dms.Sent,10:#,0}{Dms.Confirmed,10:#,0}{Dms.Lost,8}{Dms.Duplicated,8}  {Dms.Offline:#,0} stored for a logged-off user; {Dms.Unconfirmed} without DM_SENT (not judged)");
        Line(text, $"  {"CHAT",-10}{Chats.Sent,10:#,0}{Chats.Sent,10:#,0}{Chats.Lost,8}{Chats.Duplicated,8}  {Chats.Sessions:#,0} sessions, {Chats.Crossed:#,0} ended with crossing END_REQUESTs");
        Line(text, $"  {"history",-10}{"",10}{History.Chats,10:#,0}{History.Missing,8}{History.Duplicated + History.Unexpected,8}  {History.Pairs} pairs read back; {History.Unexpected} stored CHATs nobody sent");
        Line(text, $"  {"SAY",-10}{Rooms.Sent,10:#,0}{Rooms.Expected,10:#,0}{Rooms.Lost,8}{Rooms.Duplicated,8}  copies owed to members present throughout; {Rooms.Unconfirmed} SAYs unconfirmed (not judged)");
        Line(text, $"  server RSS: start {Rss.StartMiB:0.0} MiB, second half {Rss.MidMiB:0.0} → {Rss.EndMiB:0.0} MiB ({Signed(Rss.GrowthMiB, 1)} MiB, {Signed(Rss.SlopeMiBPerMinute, 2)} MiB/min), max {Rss.MaxMiB:0.0} MiB: {Rss.Verdict}");
        var samples = Samples.Select(s => string.Create(CultureInfo.InvariantCulture, $"{TimeSpan.FromSeconds(s.Seconds):hh\\:mm\\:ss} {s.Bytes / 1048576.0:0.0}")).ToArray();
        for (var i = 0; i < samples.Length; i += 8)
        {
            Line(text, $"    {string.Join("  ", samples.Skip(i).Take(8))}");
        }

        return text.ToString();
    }

    private IEnumerable<(string Kind, string Name, long Count)> Problems() =>
        Counters.Errors.Select(p => ("ERROR", p.Key, p.Value))
            .Concat(Counters.Exceptions.Select(p => ("exception", p.Key, p.Value)))
            .Concat(Counters.UnexpectedCloses.Select(p => ("close", p.Key, p.Value)))
            .Concat(Counters.FailedChecks.Select(p => ("check", p.Key, p.Value)));

    /// <summary>A change with its sign; adding 0.0 turns a negative zero after rounding into a plain one.</summary>
    private static string Signed(double value, int digits) =>
        (Math.Round(value, digits) + 0.0).ToString(digits == 1 ? "+0.0;-0.0;0.0" : "+0.00;-0.00;0.00", CultureInfo.InvariantCulture);

    private static void Add(List<string> failures, long count, string what)
    {
        if (count > 0)
        {
            failures.Add($"{count} {what}");
        }
    }

    /// <summary>Copies a totals record's numeric properties into <paramref name="metrics"/>, named in snake case after <paramref name="prefix"/>.</summary>
    private static void Put(Dictionary<string, double> metrics, string prefix, object totals)
    {
        foreach (var property in totals.GetType().GetProperties())
        {
            if (property.GetValue(totals) is IConvertible value && property.PropertyType != typeof(string))
            {
                metrics[prefix + SnakeCase(property.Name)] = value.ToDouble(CultureInfo.InvariantCulture);
            }
        }
    }

    private static string SnakeCase(string name) =>
        string.Concat(name.Select((c, i) => char.IsUpper(c) ? (i > 0 ? "_" : "") + char.ToLowerInvariant(c) : c.ToString()));

    private static void Line(StringBuilder text, FormattableString line) => text.AppendLine(line.ToString(CultureInfo.InvariantCulture));
}
