using Microsoft.Extensions.Logging;

namespace Parley.Server.Authentication;

/// <summary>
/// Bounds the log lines that strangers cause one datagram at a time (issue #9): junk, oversized datagrams, HELLO and
/// sign-up floods. UDP sources can be forged, so without a bound a flood fills the operator's disk as well as the
/// network; the metrics (<c>parley.handshakes</c>) still count every datagram. A burst of lines
/// (<see cref="ParleyServerOptions.RefusalLogBurst"/>) is written at once, then
/// <see cref="ParleyServerOptions.RefusalLogPerSecond"/>, and the next line written says how many were left out.
/// </summary>
internal sealed class RefusalLog(ParleyServerOptions options, TimeProvider time, ILogger<RefusalLog> logger)
{
    private readonly Lock _gate = new();
    private readonly long _start = time.GetTimestamp();
    private readonly TokenBucket _lines = new(options.RefusalLogPerSecond, options.RefusalLogBurst, now: 0);
    private long _suppressed;

    /// <summary>Whether the caller may log its refusal now; if lines were left out before it, says so first.</summary>
    public bool Allow()
    {
        long suppressed;
        lock (_gate)
        {
            if (!_lines.TryTake((long)time.GetElapsedTime(_start).TotalMilliseconds))
            {
                _suppressed++;
                return false;
            }

            suppressed = _suppressed;
            _suppressed = 0;
        }

        if (suppressed > 0)
        {
            logger.LogWarning("Left out {Count} log lines about refused datagrams (a flood?); the metrics count them all", suppressed);
        }

        return true;
    }
}
