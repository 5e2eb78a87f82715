using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;

namespace Parley.Protocol.Security.EndToEnd;

/// <summary>
/// <c>/verify</c>'s safety number (issue #5; docs/PROTOCOL.md §12.5), in the manner of Signal's: each user's half is
/// 30 digits from SHA-256("parley v1 safety number" ‖ ID ‖ agree ‖ sign), five bytes per five digits; the halves are
/// put in ascending order, so both users compute the same 60 digits and compare them out of band.
/// </summary>
public static class SafetyNumber
{
    private static readonly byte[] Label = "parley v1 safety number"u8.ToArray();

    public static string Compute(string idA, IdentityPublicKey keyA, string idB, IdentityPublicKey keyB)
    {
        var a = Half(idA, keyA);
        var b = Half(idB, keyB);
        var digits = string.CompareOrdinal(a, b) <= 0 ? a + b : b + a;
        var groups = Enumerable.Range(0, digits.Length / 5).Select(i => digits.Substring(i * 5, 5));
        return string.Join(' ', groups);
    }

    private static string Half(string clientId, IdentityPublicKey key)
    {
        var hash = SHA256.HashData([.. Label, .. IdentityPublicKey.LengthPrefixed(clientId.ToLowerInvariant()), .. key.AgreeKey, .. key.SignKey]);
        var text = new StringBuilder(30);
        Span<byte> chunk = stackalloc byte[8];
        for (var i = 0; i < 6; i++)
        {
            hash.AsSpan(i * 5, 5).CopyTo(chunk[3..]);
            text.Append((BinaryPrimitives.ReadUInt64BigEndian(chunk) % 100_000).ToString("D5", System.Globalization.CultureInfo.InvariantCulture));
        }

        return text.ToString();
    }
}
