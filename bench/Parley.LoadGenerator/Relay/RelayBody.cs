using System.Diagnostics;
using System.Globalization;

namespace Parley.LoadGenerator.Relay;

/// <summary>
/// The body of a relayed test message: the sender's <see cref="Stopwatch"/> timestamp in 16 hex digits, then filler
/// up to the payload size. Sender and receiver are in this one process, so the receiver's clock is the sender's and
/// latency is a subtraction (issue #8: "latency from timestamps carried in the messages").
/// </summary>
internal static class RelayBody
{
    public const int MinimumSize = 17;

    public static string Create(int size, long timestamp) =>
        string.Create(Math.Max(size, MinimumSize), timestamp, static (span, ts) =>
        {
            ts.TryFormat(span, out _, "x16", CultureInfo.InvariantCulture);
            span[16] = '|';
            span[17..].Fill('x');
        });

    /// <summary>The timestamp <paramref name="body"/> carries, or null when it is not one of ours.</summary>
    public static long? ReadTimestamp(ReadOnlySpan<char> body) =>
        body.Length >= MinimumSize && body[16] == '|' &&
        long.TryParse(body[..16], NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var ts)
            ? ts
            : null;
}
