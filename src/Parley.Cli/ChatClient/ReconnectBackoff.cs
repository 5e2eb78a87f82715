namespace Parley.Cli.ChatClient;

/// <summary>
/// How <c>parley chat</c> waits before each try to log on again after the link dropped (docs/PROTOCOL.md §8.2):
/// <see cref="FirstDelay"/>, doubled after every failed try up to <see cref="MaxDelay"/>.
/// </summary>
internal sealed record ReconnectPolicy(TimeSpan FirstDelay, TimeSpan MaxDelay)
{
    public static readonly TimeSpan DefaultFirstDelay = TimeSpan.FromSeconds(1);

    public static readonly TimeSpan DefaultMaxDelay = TimeSpan.FromSeconds(30);

    /// <summary>The largest delay an option may ask for: a server gone for longer is still tried every hour.</summary>
    public static readonly TimeSpan Longest = TimeSpan.FromHours(1);

    /// <summary>
    /// Each delay is moved by up to this fraction either way, so that the clients a restarted server dropped all at
    /// once do not all come back in the same instant.
    /// </summary>
    public const double Jitter = 0.2;
}

/// <summary>The delays of one run of tries: doubling from the first to the cap, each with its jitter, until <see cref="Reset"/>.</summary>
/// <remarks><paramref name="random"/> gives numbers in [0, 1); jitter is not a secret, so <see cref="Random.Shared"/> serves.</remarks>
internal sealed class ReconnectBackoff(ReconnectPolicy policy, Func<double>? random = null)
{
    private readonly Func<double> _random = random ?? Random.Shared.NextDouble;
    private TimeSpan _nominal = policy.FirstDelay;

    /// <summary>The wait before the next try; the one after it is twice as long (before jitter), up to the cap.</summary>
    public TimeSpan Next()
    {
        var nominal = _nominal;
        _nominal = TimeSpan.FromTicks(Math.Min(nominal.Ticks * 2, policy.MaxDelay.Ticks));
        return nominal * (1 + (ReconnectPolicy.Jitter * ((2 * _random()) - 1)));
    }

    /// <summary>After a successful log-on: the next drop starts again from the first delay.</summary>
    public void Reset() => _nominal = policy.FirstDelay;
}
