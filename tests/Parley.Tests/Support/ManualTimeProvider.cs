namespace Parley.Tests.Support;

/// <summary>A clock that moves only when a test says so, so expiry is tested without waiting.</summary>
internal sealed class ManualTimeProvider : TimeProvider
{
    private long _ticks;
    private readonly DateTimeOffset _now = new(2026, 11, 21, 12, 0, 0, TimeSpan.Zero);

    public override long TimestampFrequency => TimeSpan.TicksPerSecond;

    public override long GetTimestamp() => Interlocked.Read(ref _ticks);

    public override DateTimeOffset GetUtcNow() => _now.AddTicks(Interlocked.Read(ref _ticks));

    public void Advance(TimeSpan by) => Interlocked.Add(ref _ticks, by.Ticks);
}
