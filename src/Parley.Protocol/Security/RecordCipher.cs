using System.Buffers.Binary;
using System.Security.Cryptography;

namespace Parley.Protocol.Security;

/// <summary>
/// AES-256-GCM record protection for one direction of a TCP connection, with nonces built as in TLS 1.3
/// (RFC 8446 §5.3): the 64-bit record sequence number, big-endian and left-padded to 12 bytes, XORed with a static
/// IV. The receiver's counter must match the sender's, so a tampered, replayed, reordered or dropped record fails
/// authentication. The frame header is the associated data, so its length and kind are authenticated too.
/// Not thread-safe: one reader or one writer owns each instance.
/// </summary>
public sealed class RecordCipher : IDisposable
{
    public const int TagBytes = 16;
    private readonly AesGcm _aes;
    private readonly byte[] _iv;
    private ulong _sequence;

    public RecordCipher(DirectionKeys keys)
    {
        _aes = new AesGcm(keys.Key, TagBytes);
        _iv = keys.Iv;
    }

    /// <summary>Writes ciphertext ‖ tag into <paramref name="destination"/> (plaintext length + 16 bytes).</summary>
    public void Seal(ReadOnlySpan<byte> header, ReadOnlySpan<byte> plaintext, Span<byte> destination)
    {
        Span<byte> nonce = stackalloc byte[KeySchedule.IvBytes];
        NextNonce(nonce);
        _aes.Encrypt(nonce, plaintext, destination[..plaintext.Length],
            destination.Slice(plaintext.Length, TagBytes), header);
    }

    /// <summary>Decrypts ciphertext ‖ tag into <paramref name="plaintext"/>; false when authentication fails.</summary>
    public bool TryOpen(ReadOnlySpan<byte> header, ReadOnlySpan<byte> sealedBody, Span<byte> plaintext)
    {
        if (sealedBody.Length < TagBytes)
        {
            return false;
        }

        Span<byte> nonce = stackalloc byte[KeySchedule.IvBytes];
        NextNonce(nonce);
        try
        {
            var cipherLength = sealedBody.Length - TagBytes;
            _aes.Decrypt(nonce, sealedBody[..cipherLength], sealedBody[cipherLength..], plaintext[..cipherLength], header);
            return true;
        }
        catch (AuthenticationTagMismatchException)
        {
            return false;
        }
    }

    public void Dispose() => _aes.Dispose();

    private void NextNonce(Span<byte> nonce)
    {
        // RFC 8446 §5.5: a sequence number must never wrap; at 2^64 records the connection must end instead.
        if (_sequence == ulong.MaxValue)
        {
            throw new CryptographicException("Record sequence number exhausted.");
        }

        nonce[..4].Clear();
        BinaryPrimitives.WriteUInt64BigEndian(nonce[4..], _sequence++);
        for (var i = 0; i < nonce.Length; i++)
        {
            nonce[i] ^= _iv[i];
        }
    }
}
