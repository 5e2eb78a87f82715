namespace Parley.Cli.ChatClient;

/// <summary>
/// How <c>parley chat</c> waits before each try to log on again after the link dropped (docs/PROTOCOL.md §8.2):
/// <see cref="FirstDelay"/>, doubled after every failed try up to <see cref="MaxDelay"/>.
/// </summary>
internal sealed record ReconnectPolicy(TimeSpan FirstDelay, TimeSpan MaxDelay)
{
    public static readonly TimeSpan DefaultFirstDelay = TimeSpan.FromSeconds(1);

    public static readonly TimeSpan DefaultMaxDelay = TimeSpan.FromSeconds(30);

    /// <summary>
    /// The shortest first wait an option may ask for. Every try spends HELLO budget (30 a minute per address, §10.5)
    /// that the users behind the same NAT share; tries a millisecond apart would spend it for all of them.
    /// </summary>
    public static readonly TimeSpan ShortestFirstDelay = TimeSpan.FromSeconds(0.1);

    /// <summary>The shortest cap an option may ask for: a server that stays away is tried at most about once a second.</summary>
    public static readonly TimeSpan ShortestMaxDelay = TimeSpan.FromSeconds(1);

    /// <summary>The largest delay an option may ask for: a server gone for longer is still tried every hour.</summary>
    public static readonly TimeSpan Longest = TimeSpan.FromHours(1);

    /// <summary>The least time a link must stay up before its drop starts again from the first delay.</summary>
    public static readonly TimeSpan ShortestStableLink = TimeSpan.FromSeconds(60);

    /// <summary>
    /// Each delay is moved by up to this fraction either way, so that the clients a restarted server dropped all at
    /// once do not all come back in the same instant.
    /// </summary>
    public const double Jitter = 0.2;

    /// <summary>
    /// How long a link must stay up for its drop to count as a new outage (back to <see cref="FirstDelay"/>): a minute,
    /// or <see cref="MaxDelay"/> if longer. A link that dies sooner (a crash-looping server, a cut-off after log-on) goes
    /// on doubling, so the client does not return every second.
    /// </summary>
    public TimeSpan StableAfter => MaxDelay > ShortestStableLink ? MaxDelay : ShortestStableLink;
}

/// <summary>
/// The delays of one run of tries: doubling from the first to the cap, each with its jitter. The run starts again
/// from the first delay after <see cref="Reset"/>, or at the first drop of a link that stayed up for
/// <see cref="ReconnectPolicy.StableAfter"/> since <see cref="LinkUp"/>.
/// </summary>
/// <remarks><paramref name="random"/> gives numbers in [0, 1); jitter is not a secret, so <see cref="Random.Shared"/> serves.</remarks>
internal sealed class ReconnectBackoff(ReconnectPolicy policy, Func<double>? random = null, TimeProvider? time = null)
{
    private readonly Func<double> _random = random ?? Random.Shared.NextDouble;
    private readonly TimeProvider _time = time ?? TimeProvider.System;
    private TimeSpan _nominal = policy.FirstDelay;
    private long? _upSince;

    /// <summary>
    /// The wait before the next try, never shorter than <paramref name="atLeast"/> (the wait a RATE_LIMITED refusal
    /// stated); the one after it is twice as long (before jitter), up to the cap.
    /// </summary>
    public TimeSpan Next(TimeSpan? atLeast = null)
    {
        if (_upSince is { } since && _time.GetElapsedTime(since) >= policy.StableAfter)
        {
            _nominal = policy.FirstDelay;
        }

        _upSince = null;
        var nominal = _nominal;
        _nominal = TimeSpan.FromTicks(Math.Min(nominal.Ticks * 2, policy.MaxDelay.Ticks));
        var wait = nominal * (1 + (ReconnectPolicy.Jitter * ((2 * _random()) - 1)));
        return atLeast is { } floor && floor > wait ? floor : wait;
    }

    /// <summary>A try succeeded: the run goes on unless the link now stays up for <see cref="ReconnectPolicy.StableAfter"/>.</summary>
    public void LinkUp() => _upSince = _time.GetTimestamp();

    /// <summary>The user logged on or off: the next drop starts from the first delay.</summary>
    public void Reset()
    {
        _nominal = policy.FirstDelay;
        _upSince = null;
    }
}
