using System.Security.Cryptography;
using Parley.Protocol.Security;

namespace Parley.Client;

/// <summary>
/// A password that remembers its last PBKDF2 result (SCRAM's SaltedPassword, RFC 5802 §3), so that logging on again
/// with the same salt and iteration count costs two HMACs instead of the whole hash (issue #8's log-on benchmark:
/// "client keys derived once per user"). The cached value opens this account on this server as the password does,
/// so it lives only in memory, in a pinned array the GC never copies, and <see cref="Dispose"/> wipes it. A
/// derivation runs under the key's lock, so a concurrent log-on with the same key waits for it instead of hashing twice.
/// </summary>
public sealed class PasswordKey(string password) : IDisposable
{
    private readonly Lock _gate = new();
    private byte[]? _salt;
    private int _iterations;
    private byte[]? _salted;

    /// <summary>A copy of SaltedPassword for <paramref name="salt"/> and <paramref name="iterations"/>; the caller wipes it.</summary>
    internal byte[] SaltedPassword(ReadOnlySpan<byte> salt, int iterations)
    {
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(password is null, this);
            if (_salted is null || _iterations != iterations || !salt.SequenceEqual(_salt))
            {
                Forget();
                var derived = Scram.SaltedPassword(password, salt, iterations);
                _salted = GC.AllocateArray<byte>(derived.Length, pinned: true);
                derived.CopyTo(_salted, 0);
                CryptographicOperations.ZeroMemory(derived);
                _salt = salt.ToArray();
                _iterations = iterations;
            }

            return (byte[])_salted.Clone();
        }
    }

    public void Dispose()
    {
        lock (_gate)
        {
            Forget();
            password = null!;
        }
    }

    private void Forget()
    {
        if (_salted is not null)
        {
            CryptographicOperations.ZeroMemory(_salted);
            _salted = null;
        }
    }
}
