namespace Parley.Server;

/// <summary>
/// A token bucket (issue #9): <c>burst</c> events at once, then <c>perSecond</c> a second. Time is passed in, as
/// milliseconds of a monotonic clock, so a test can drive it. Not thread-safe: a connection's receive loop owns its
/// bucket (<see cref="Connections.ClientConnection"/>'s message rate), and <see cref="Authentication.RefusalLog"/>
/// takes its lock around its one.
/// </summary>
internal sealed class TokenBucket(int perSecond, int burst, long now)
{
    private double _tokens = burst;
    private long _updated = now;

    /// <summary>Spends one token at <paramref name="now"/>; false when the bucket is empty.</summary>
    public bool TryTake(long now)
    {
        if (now > _updated)
        {
            _tokens = Math.Min(burst, _tokens + ((now - _updated) * perSecond / 1000.0));
            _updated = now;
        }

        if (_tokens < 1)
        {
            return false;
        }

        _tokens -= 1;
        return true;
    }
}
