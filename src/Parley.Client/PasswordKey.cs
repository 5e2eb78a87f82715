using System.Security.Cryptography;
using Parley.Protocol.Security;

namespace Parley.Client;

/// <summary>
/// A password that remembers its last PBKDF2 result (SCRAM's SaltedPassword, RFC 5802 §3), so that logging on again
/// with the same salt and iteration count costs two HMACs instead of the whole hash (issue #8's log-on benchmark:
/// "client keys derived once per user"). The cached value opens this account on this server as the password does,
/// so it lives only in memory, in a pinned array the GC never copies, and <see cref="Dispose"/> wipes it. A
/// derivation runs under the key's lock, so a concurrent log-on with the same key waits for it instead of hashing twice.
/// After <see cref="ForgetPassword"/> it holds only that result: <c>parley chat</c> keeps such a key to log on again
/// after a dropped link (docs/PROTOCOL.md §8.2), never the password itself.
/// </summary>
public sealed class PasswordKey(string password) : IDisposable
{
    private readonly Lock _gate = new();
    private string? _password = password;
    private bool _disposed;
    private byte[]? _salt;
    private int _iterations;
    private byte[]? _salted;

    /// <summary>A copy of SaltedPassword for <paramref name="salt"/> and <paramref name="iterations"/>; the caller wipes it.</summary>
    internal byte[] SaltedPassword(ReadOnlySpan<byte> salt, int iterations)
    {
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (_salted is null || _iterations != iterations || !salt.SequenceEqual(_salt))
            {
                // Another salt means another verifier: the password was changed or reset, or the account removed (an
                // unknown ID gets a fake salt, PROTOCOL.md §3.3). Without the password no proof is sent, so none fails.
                var known = _password ?? throw new ParleyClientException(ClientFailure.AuthenticationFailed,
                    "The server no longer accepts the password you logged on with (it was changed or reset, or the account was removed).");
                Forget();
                var derived = Scram.SaltedPassword(known, salt, iterations);
                _salted = GC.AllocateArray<byte>(derived.Length, pinned: true);
                derived.CopyTo(_salted, 0);
                CryptographicOperations.ZeroMemory(derived);
                _salt = salt.ToArray();
                _iterations = iterations;
            }

            return (byte[])_salted.Clone();
        }
    }

    /// <summary>
    /// A new verifier for this password (PASSWD, issue #3) with a fresh random salt; the key then holds that salt's
    /// derivation and drops the password, so it logs on once the change is made and needs no password to do so
    /// (<c>parley chat</c> keeps such a key after <c>/passwd</c>, docs/PROTOCOL.md §8.2). PBKDF2 runs once for both.
    /// </summary>
    internal ScramVerifier CreateVerifier(int iterations)
    {
        var salt = RandomNumberGenerator.GetBytes(Scram.SaltBytes);
        var salted = SaltedPassword(salt, iterations);
        try
        {
            ForgetPassword();
            return new ScramVerifier(salt, iterations, Scram.StoredKey(Scram.ClientKey(salted)), Scram.ServerKey(salted));
        }
        finally
        {
            CryptographicOperations.ZeroMemory(salted);
        }
    }

    /// <summary>
    /// Drops the password and keeps only the last derivation, which the caller has just seen succeed: a later log-on
    /// with the same salt still works, one that needs another salt fails with <see cref="ClientFailure.AuthenticationFailed"/>.
    /// </summary>
    public void ForgetPassword()
    {
        lock (_gate)
        {
            _password = null;
        }
    }

    public void Dispose()
    {
        lock (_gate)
        {
            Forget();
            _password = null;
            _disposed = true;
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
