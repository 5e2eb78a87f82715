using System.Security.Cryptography;
using System.Text;

namespace Parley.Protocol.Security.EndToEnd;

/// <summary>
/// The identity key pair wrapped under the user's password (issue #5; docs/PROTOCOL.md §12.2), so a user on a fresh
/// machine gets their keys back from the server and reads their whole history, while the server, which never sees
/// the password, cannot. KEK = HKDF-SHA256(PBKDF2-SHA256(NFKC(password), salt, iterations), info "parley v1 key
/// backup"): a salt of its own, not SCRAM's, so the server's verifier tells nothing about this key. The box is
/// AES-256-GCM over the two private scalars, with the ID and both public keys as associated data, so a server that
/// swaps in another user's backup or other public keys is caught.
/// </summary>
public static class KeyBackup
{
    /// <summary>OWASP's 2023 figure for PBKDF2-HMAC-SHA256; the client never writes fewer (issue #5).</summary>
    public const int MinimumIterations = 600_000;

    /// <summary>A backup demanding more is refused: the server must not be able to keep a client hashing for hours.</summary>
    public const int MaximumIterations = Scram.MaximumIterations;

    public const int SaltBytes = 16;
    private const int KeyBytes = 32;
    private const int NonceBytes = 12;
    private const int TagBytes = 16;

    /// <summary>The box's length: nonce, the two 32-byte scalars, tag.</summary>
    public const int BoxBytes = NonceBytes + 2 * IdentityKey.ScalarBytes + TagBytes;
    private static readonly byte[] Info = "parley v1 key backup"u8.ToArray();

    /// <summary>Wraps <paramref name="key"/> under <paramref name="password"/> with a fresh salt. Takes one PBKDF2 run.</summary>
    public static SealedBackup Seal(IdentityKey key, string clientId, string password, int iterations = MinimumIterations)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(iterations, MinimumIterations);
        var salt = RandomNumberGenerator.GetBytes(SaltBytes);
        var kek = DeriveKey(password, salt, iterations);
        var plain = key.ExportScalars();
        var box = new byte[NonceBytes + plain.Length + TagBytes];
        RandomNumberGenerator.Fill(box.AsSpan(0, NonceBytes));
        try
        {
            using var aes = new AesGcm(kek, TagBytes);
            aes.Encrypt(box.AsSpan(0, NonceBytes), plain, box.AsSpan(NonceBytes, plain.Length), box.AsSpan(NonceBytes + plain.Length),
                AssociatedData(clientId, key.Public));
        }
        finally
        {
            CryptographicOperations.ZeroMemory(plain);
            CryptographicOperations.ZeroMemory(kek);
        }

        return new SealedBackup(key.Public.Fingerprint, salt, iterations, box);
    }

    /// <summary>
    /// Unwraps a backup of <paramref name="expected"/>'s private keys; null when the password is not the one it was
    /// sealed with, the box was altered, or it holds keys other than <paramref name="expected"/>.
    /// </summary>
    public static IdentityKey? Open(SealedBackup backup, string clientId, string password, IdentityPublicKey expected)
    {
        if (backup.Iterations is < MinimumIterations or > MaximumIterations || backup.Salt.Length != SaltBytes
            || backup.Box.Length != BoxBytes)
        {
            return null;
        }

        var kek = DeriveKey(password, backup.Salt, backup.Iterations);
        var plain = new byte[2 * IdentityKey.ScalarBytes];
        try
        {
            using var aes = new AesGcm(kek, TagBytes);
            aes.Decrypt(backup.Box.AsSpan(0, NonceBytes), backup.Box.AsSpan(NonceBytes, plain.Length),
                backup.Box.AsSpan(NonceBytes + plain.Length), plain, AssociatedData(clientId, expected));
            var key = IdentityKey.FromScalars(plain.AsSpan(0, IdentityKey.ScalarBytes), plain.AsSpan(IdentityKey.ScalarBytes));
            if (key is not null && key.Public.Fingerprint != expected.Fingerprint)
            {
                key.Dispose();
                return null;
            }

            return key;
        }
        catch (AuthenticationTagMismatchException)
        {
            return null;
        }
        finally
        {
            CryptographicOperations.ZeroMemory(plain);
            CryptographicOperations.ZeroMemory(kek);
        }
    }

    private static byte[] DeriveKey(string password, byte[] salt, int iterations)
    {
        var normalized = Encoding.UTF8.GetBytes(password.Normalize(NormalizationForm.FormKC));
        var stretched = Rfc2898DeriveBytes.Pbkdf2(normalized, salt, iterations, HashAlgorithmName.SHA256, KeyBytes);
        CryptographicOperations.ZeroMemory(normalized);
        var key = HKDF.Expand(HashAlgorithmName.SHA256, stretched, KeyBytes, Info);
        CryptographicOperations.ZeroMemory(stretched);
        return key;
    }

    private static byte[] AssociatedData(string clientId, IdentityPublicKey key) =>
        [.. Info, .. IdentityPublicKey.LengthPrefixed(clientId.ToLowerInvariant()), .. key.AgreeKey, .. key.SignKey];
}

/// <summary>A wrapped identity key as the server stores it: which key, the PBKDF2 salt and count, and nonce ‖ ciphertext ‖ tag.</summary>
public sealed record SealedBackup(string Fingerprint, byte[] Salt, int Iterations, byte[] Box);
