namespace Parley.LoadGenerator.Relay;

/// <summary>
/// One relay run (issue #8): <see cref="Pairs"/> sender→receiver pairs, <see cref="Size"/>-byte bodies. With no
/// <see cref="Rate"/> each sender keeps <see cref="Window"/> messages in flight (closed loop: saturation throughput);
/// with a rate, senders send on a fixed schedule whatever the server does (open loop: latency at that offered load).
/// </summary>
internal sealed record RelayParameters(int Pairs, int Window, int Size, double? Rate, TimeSpan Warmup, TimeSpan Duration)
{
    public Dictionary<string, double> ToDictionary()
    {
        var parameters = new Dictionary<string, double>
        {
            ["pairs"] = Pairs,
            ["size"] = Size,
            ["warmup_s"] = Warmup.TotalSeconds,
            ["duration_s"] = Duration.TotalSeconds,
        };
        if (Rate is { } rate)
        {
            parameters["rate"] = rate;
        }
        else
        {
            parameters["window"] = Window;
        }

        return parameters;
    }
}
