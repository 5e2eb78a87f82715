using System.Security.Cryptography;
using System.Text;

namespace Parley.Protocol.Security;

/// <summary>
/// SCRAM-SHA-256 (RFC 5802 §3, RFC 7677): Parley's A3. The server keeps only <see cref="ScramVerifier"/>; the
/// client proves it knows the password without sending it, and the server proves it holds the verifier.
/// </summary>
public static class Scram
{
    public const int KeyBytes = 32;
    public const int SaltBytes = 16;

    /// <summary>RFC 7677 §4 asks for at least 4096; OWASP (2023) recommends 600,000 for PBKDF2-HMAC-SHA256.</summary>
    public const int DefaultIterations = 600_000;
    public const int MinimumIterations = 4096;

    /// <summary>The most a client runs (a CHALLENGE is unauthenticated, so it bounds the work one can demand).</summary>
    public const int MaximumIterations = 10_000_000;

    private static readonly byte[] ClientKeyLabel = "Client Key"u8.ToArray();
    private static readonly byte[] ServerKeyLabel = "Server Key"u8.ToArray();

    /// <summary>SaltedPassword := Hi(Normalize(password), salt, i). This is the expensive step the client pays.</summary>
    public static byte[] SaltedPassword(string password, ReadOnlySpan<byte> salt, int iterations)
    {
        // RFC 5802 asks for SASLprep (RFC 4013); .NET has no stringprep, and NFKC is its normalization step.
        var normalized = Encoding.UTF8.GetBytes(password.Normalize(NormalizationForm.FormKC));
        try
        {
            return Rfc2898DeriveBytes.Pbkdf2(normalized, salt, iterations, HashAlgorithmName.SHA256, KeyBytes);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(normalized);
        }
    }

    public static byte[] ClientKey(ReadOnlySpan<byte> saltedPassword) => HMACSHA256.HashData(saltedPassword, ClientKeyLabel);

    public static byte[] ServerKey(ReadOnlySpan<byte> saltedPassword) => HMACSHA256.HashData(saltedPassword, ServerKeyLabel);

    public static byte[] StoredKey(ReadOnlySpan<byte> clientKey) => SHA256.HashData(clientKey);

    /// <summary>What the server stores for a user: never the password, never anything that logs on by itself.</summary>
    public static ScramVerifier CreateVerifier(string password, int iterations, byte[]? salt = null)
    {
        salt ??= RandomNumberGenerator.GetBytes(SaltBytes);
        var salted = SaltedPassword(password, salt, iterations);
        try
        {
            return new ScramVerifier(salt, iterations, StoredKey(ClientKey(salted)), ServerKey(salted));
        }
        finally
        {
            CryptographicOperations.ZeroMemory(salted);
        }
    }

    /// <summary>ClientProof := ClientKey XOR HMAC(StoredKey, AuthMessage).</summary>
    public static byte[] ClientProof(ReadOnlySpan<byte> clientKey, ReadOnlySpan<byte> authMessage)
    {
        var proof = HMACSHA256.HashData(StoredKey(clientKey), authMessage);
        Xor(proof, clientKey);
        return proof;
    }

    /// <summary>ServerSignature := HMAC(ServerKey, AuthMessage).</summary>
    public static byte[] ServerSignature(ReadOnlySpan<byte> serverKey, ReadOnlySpan<byte> authMessage) =>
        HMACSHA256.HashData(serverKey, authMessage);

    /// <summary>
    /// Server side of RFC 5802 §3: recovers ClientKey from the proof and checks H(ClientKey) = StoredKey in constant
    /// time. Returns the recovered ClientKey (an input of A8) or null.
    /// </summary>
    public static byte[]? VerifyClientProof(ReadOnlySpan<byte> storedKey, ReadOnlySpan<byte> proof, ReadOnlySpan<byte> authMessage)
    {
        if (proof.Length != KeyBytes)
        {
            return null;
        }

        var clientKey = HMACSHA256.HashData(storedKey, authMessage);
        Xor(clientKey, proof);
        return CryptographicOperations.FixedTimeEquals(SHA256.HashData(clientKey), storedKey) ? clientKey : null;
    }

    /// <summary>
    /// What a PASSWD proof signs in place of an AuthMessage: the new verifier, so the proof of the old password
    /// authorizes this change and nothing else (docs/PROTOCOL.md §10.8).
    /// </summary>
    public static byte[] PasswdBinding(ScramVerifier newVerifier)
    {
        var label = "parley v1 PASSWD"u8;
        var binding = new byte[label.Length + newVerifier.Salt.Length + 4 + newVerifier.StoredKey.Length + newVerifier.ServerKey.Length];
        var span = binding.AsSpan();
        label.CopyTo(span);
        span = span[label.Length..];
        newVerifier.Salt.CopyTo(span);
        span = span[newVerifier.Salt.Length..];
        System.Buffers.Binary.BinaryPrimitives.WriteInt32BigEndian(span, newVerifier.Iterations);
        span = span[4..];
        newVerifier.StoredKey.CopyTo(span);
        newVerifier.ServerKey.CopyTo(span[newVerifier.StoredKey.Length..]);
        return binding;
    }

    private static void Xor(Span<byte> into, ReadOnlySpan<byte> other)
    {
        for (var i = 0; i < into.Length; i++)
        {
            into[i] ^= other[i];
        }
    }
}

/// <summary>RFC 5802 §2.2's stored authentication information.</summary>
public sealed record ScramVerifier(byte[] Salt, int Iterations, byte[] StoredKey, byte[] ServerKey);
