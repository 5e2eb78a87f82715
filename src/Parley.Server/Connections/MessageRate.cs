namespace Parley.Server.Connections;

/// <summary>
/// The token bucket of one connection's receive loop (issue #9): a client may send <c>burst</c> messages at once and
/// <c>perSecond</c> a second after that. Every frame counts, PING included, so a flood of anything costs the same.
/// Only the receive loop touches it, so it needs no lock; time is passed in (milliseconds of a monotonic clock) so a
/// test can drive it.
/// </summary>
internal sealed class MessageRate(int perSecond, int burst, long now)
{
    private double _tokens = burst;
    private long _updated = now;

    /// <summary>Spends one token at <paramref name="now"/>; false when the bucket is empty (the client is flooding).</summary>
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
