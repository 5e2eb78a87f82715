using System.Security.Cryptography;
using System.Text;

namespace Parley.Protocol.Security;

/// <summary>
/// Parley's A8 (seed 001 "Encryption"): CK_A := HKDF-Extract(salt = SHA-256(AuthMessage), IKM = ECDH secret ‖ ClientKey)
/// (RFC 5869 §2.2). Both sides compute it; it is never sent. The ephemeral ECDH secret gives forward secrecy; the
/// ClientKey ties CK_A to the password as the seed's hash2(rand + K_A) does. Every working key is an HKDF-Expand of
/// CK_A with its own label, so no key serves two purposes.
/// </summary>
public sealed class KeySchedule : IDisposable
{
    private const int KeyBytes = 32;
    public const int IvBytes = 12;
    private readonly byte[] _ckA;

    public KeySchedule(ReadOnlySpan<byte> ecdhSecret, ReadOnlySpan<byte> clientKey, ReadOnlySpan<byte> authMessage)
    {
        Span<byte> ikm = stackalloc byte[ecdhSecret.Length + clientKey.Length];
        ecdhSecret.CopyTo(ikm);
        clientKey.CopyTo(ikm[ecdhSecret.Length..]);
        _ckA = new byte[KeyBytes];
        HKDF.Extract(HashAlgorithmName.SHA256, ikm, SHA256.HashData(authMessage), _ckA);
        CryptographicOperations.ZeroMemory(ikm);
    }

    /// <summary>Key and IV that seal the AUTH_SUCCESS ticket (used once).</summary>
    public DirectionKeys AuthSuccess => Derive("auth success");

    /// <summary>Record keys, client → server.</summary>
    public DirectionKeys ClientToServer => Derive("c2s");

    /// <summary>Record keys, server → client.</summary>
    public DirectionKeys ServerToClient => Derive("s2c");

    public void Dispose() => CryptographicOperations.ZeroMemory(_ckA);

    private DirectionKeys Derive(string purpose) => new(
        HKDF.Expand(HashAlgorithmName.SHA256, _ckA, KeyBytes, Encoding.ASCII.GetBytes($"parley v1 {purpose} key")),
        HKDF.Expand(HashAlgorithmName.SHA256, _ckA, IvBytes, Encoding.ASCII.GetBytes($"parley v1 {purpose} iv")));
}

/// <summary>An AES-256-GCM key and the static IV that record sequence numbers are mixed into.</summary>
public sealed record DirectionKeys(byte[] Key, byte[] Iv);
