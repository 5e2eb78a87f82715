namespace Parley.LoadGenerator.Workloads.Soak;

/// <summary>
/// What one soak run (issue #9) is asked to do: <see cref="Clients"/> users, each sending about <see cref="Rate"/>
/// messages a second for <see cref="Duration"/>, its mix drawn from a generator seeded with <see cref="Seed"/> and its
/// index, while the server's resident memory is read every <see cref="RssInterval"/>.
/// </summary>
internal sealed record SoakParameters(int Clients, TimeSpan Duration, int Seed, double Rate, TimeSpan RssInterval)
{
    /// <summary>Below this the RSS trend is reported but not judged: the first minutes are the runtime's warm-up, not a leak.</summary>
    public static readonly TimeSpan MinimumJudgedDuration = TimeSpan.FromMinutes(2);

    /// <summary>How long any one awaited answer (a reply, a peer's last CHATs, a log-on) may take before it counts as missing.</summary>
    public static readonly TimeSpan ReplyTimeout = TimeSpan.FromSeconds(30);

    /// <summary>
    /// The longest a client stays logged off between log-ons: long enough for DMs to queue for it (§11.4), short
    /// enough that a short run still sees it come back: a twentieth of the run, within 2 to 15 seconds; each stay is
    /// drawn between half that and that.
    /// </summary>
    public TimeSpan MaxOffline => TimeSpan.FromSeconds(Math.Clamp(Duration.TotalSeconds / 20, 2, 15));

    public TimeSpan MinOffline => MaxOffline / 2;

    /// <summary>
    /// The bound on everything after the last scheduled message: settling sessions, logging everyone on, the replays
    /// and histories the accounting reads. Past it the run stops and fails rather than wait on a stuck server.
    /// </summary>
    public TimeSpan DrainDeadline => TimeSpan.FromSeconds(90 + 3 * Clients);

    /// <summary>The soak's users, <c>soak0</c>, <c>soak1</c>...: valid client IDs (§1.5) that sort apart from the benchmarks' own.</summary>
    public string[] UserIds() => [.. Enumerable.Range(0, Clients).Select(i => $"soak{i}")];

    /// <summary>A sentence naming the first value out of range, or null.</summary>
    public string? Problem() =>
        Clients < 2 ? "--clients must be at least 2: sessions, DMs and rooms need a peer."
        : Clients > 500 ? "--clients must be at most 500: the soak is a steady load, not a connection count."
        : !(Duration > TimeSpan.Zero) ? "--duration must be above 0."
        : !(Rate is > 0 and <= 50) ? "--rate must be above 0 and at most 50 messages a second per client: a soak stays well under the server's per-client rate limit."
        : !(RssInterval > TimeSpan.Zero) ? "--rss-interval must be above 0."
        : null;
}
