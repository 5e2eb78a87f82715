using System.Security.Cryptography;
using Parley.Protocol.Messages;

namespace Parley.Protocol.Security;

/// <summary>
/// Seals the AUTH_SUCCESS ticket with AES-256-GCM under a key derived from CK_A (seed 001 step 3: "The message is
/// encrypted by CK-A"). The key is used for exactly one message, so its derived IV is the nonce.
/// </summary>
public static class TicketBox
{
    private const int TagBytes = 16;
    private static readonly byte[] Aad = "parley v1 AUTH_SUCCESS"u8.ToArray();

    public static string Seal(DirectionKeys keys, AuthTicket ticket)
    {
        var plain = MessageCodec.SealTicket(ticket);
        var sealedBytes = new byte[plain.Length + TagBytes];
        using var aes = new AesGcm(keys.Key, TagBytes);
        aes.Encrypt(keys.Iv, plain, sealedBytes.AsSpan(0, plain.Length), sealedBytes.AsSpan(plain.Length), Aad);
        return Convert.ToBase64String(sealedBytes);
    }

    /// <summary>The ticket, or null when the box was not sealed with these keys.</summary>
    public static AuthTicket? Open(DirectionKeys keys, string sealedBase64)
    {
        var sealedBytes = WireBase64.DecodeOrEmpty(sealedBase64);
        if (sealedBytes.Length < TagBytes)
        {
            return null;
        }

        var plain = new byte[sealedBytes.Length - TagBytes];
        try
        {
            using var aes = new AesGcm(keys.Key, TagBytes);
            aes.Decrypt(keys.Iv, sealedBytes.AsSpan(0, plain.Length), sealedBytes.AsSpan(plain.Length), plain, Aad);
            return MessageCodec.OpenTicket(plain);
        }
        catch (Exception e) when (e is AuthenticationTagMismatchException or System.Text.Json.JsonException)
        {
            return null;
        }
    }
}
