namespace Parley.Protocol;

/// <summary>Base64 fields from the wire, which a peer may malform.</summary>
public static class WireBase64
{
    /// <summary>The decoded bytes, or an empty array when <paramref name="value"/> is not base64 (callers check lengths anyway).</summary>
    public static byte[] DecodeOrEmpty(string value)
    {
        try
        {
            return Convert.FromBase64String(value);
        }
        catch (FormatException)
        {
            return [];
        }
    }
}
