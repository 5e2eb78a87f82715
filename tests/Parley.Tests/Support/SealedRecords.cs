using System.Text;
using Parley.Protocol.Framing;
using Parley.Protocol.Security;

namespace Parley.Tests.Support;

/// <summary>One sealed record (header and body) of a text, and opening it again: the record layer without a channel.</summary>
internal static class SealedRecords
{
    public static (byte[] Header, byte[] Body) Seal(RecordCipher sealer, string text)
    {
        var plain = Encoding.UTF8.GetBytes(text);
        var header = new byte[Frame.HeaderBytes];
        Frame.WriteHeader(header, plain.Length + RecordCipher.TagBytes, FrameKind.Sealed);
        var body = new byte[plain.Length + RecordCipher.TagBytes];
        sealer.Seal(header, plain, body);
        return (header, body);
    }

    /// <summary>The text, or null when the record does not open (wrong keys, altered, out of order).</summary>
    public static string? Open(RecordCipher opener, (byte[] Header, byte[] Body) record)
    {
        var plain = new byte[record.Body.Length];
        return opener.TryOpen(record.Header, record.Body, plain)
            ? Encoding.UTF8.GetString(plain, 0, record.Body.Length - RecordCipher.TagBytes)
            : null;
    }
}
