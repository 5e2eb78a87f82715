using System.Security.Cryptography;
using Parley.Client;
using Parley.Protocol.Security;

namespace Parley.Tests.Unit;

/// <summary>
/// <see cref="PasswordKey"/> keeps the PBKDF2 result of the last salt (issue #8's log-on benchmark derives each user's
/// key once): it must give exactly RFC 5802's SaltedPassword for whatever salt the server asks, never hand out its own
/// copy, and be unusable once wiped.
/// </summary>
public sealed class PasswordKeyTests
{
    private const int Iterations = Scram.MinimumIterations;

    [Fact]
    public void Gives_the_salted_password_for_each_salt_it_is_asked()
    {
        var first = RandomNumberGenerator.GetBytes(Scram.SaltBytes);
        var second = RandomNumberGenerator.GetBytes(Scram.SaltBytes);
        using var key = new PasswordKey("correct horse");

        Assert.Equal(Scram.SaltedPassword("correct horse", first, Iterations), key.SaltedPassword(first, Iterations));
        Assert.Equal(Scram.SaltedPassword("correct horse", second, Iterations), key.SaltedPassword(second, Iterations));
        Assert.Equal(Scram.SaltedPassword("correct horse", second, Iterations + 1), key.SaltedPassword(second, Iterations + 1));
        Assert.Equal(Scram.SaltedPassword("correct horse", first, Iterations), key.SaltedPassword(first, Iterations));
    }

    [Fact]
    public void A_caller_wiping_its_copy_does_not_change_the_next_log_on()
    {
        var salt = RandomNumberGenerator.GetBytes(Scram.SaltBytes);
        using var key = new PasswordKey("correct horse");

        CryptographicOperations.ZeroMemory(key.SaltedPassword(salt, Iterations));

        Assert.Equal(Scram.SaltedPassword("correct horse", salt, Iterations), key.SaltedPassword(salt, Iterations));
    }

    [Fact]
    public void A_key_that_forgot_its_password_still_logs_on_with_the_same_salt_but_cannot_answer_another()
    {
        // parley chat keeps such a key to log on again after a dropped link (issue #9): a new salt means the password changed.
        var salt = RandomNumberGenerator.GetBytes(Scram.SaltBytes);
        using var key = new PasswordKey("correct horse");
        var before = key.SaltedPassword(salt, Iterations);

        key.ForgetPassword();

        Assert.Equal(before, key.SaltedPassword(salt, Iterations));
        var other = Assert.Throws<ParleyClientException>(() => key.SaltedPassword(RandomNumberGenerator.GetBytes(Scram.SaltBytes), Iterations));
        Assert.Equal(ClientFailure.AuthenticationFailed, other.Failure);
        Assert.Throws<ParleyClientException>(() => key.SaltedPassword(salt, Iterations + 1));
    }

    [Fact]
    public void A_key_made_for_a_new_verifier_answers_its_salt_without_the_password_and_no_other()
    {
        // parley chat keeps this key after /passwd to log on again (issue #9): PROTOCOL.md §8.2 says no password is kept.
        using var key = new PasswordKey("new horse battery");

        var verifier = key.CreateVerifier(Iterations);

        var expected = Scram.CreateVerifier("new horse battery", Iterations, verifier.Salt);
        Assert.Equal(expected.StoredKey, verifier.StoredKey);
        Assert.Equal(expected.ServerKey, verifier.ServerKey);
        Assert.Equal(Iterations, verifier.Iterations);
        Assert.Equal(Scram.SaltedPassword("new horse battery", verifier.Salt, Iterations), key.SaltedPassword(verifier.Salt, Iterations));
        var other = Assert.Throws<ParleyClientException>(() => key.SaltedPassword(RandomNumberGenerator.GetBytes(Scram.SaltBytes), Iterations));
        Assert.Equal(ClientFailure.AuthenticationFailed, other.Failure);
        Assert.Throws<ParleyClientException>(() => key.CreateVerifier(Iterations)); // a fresh salt would need the password
    }

    [Fact]
    public void A_disposed_key_refuses_to_derive()
    {
        var salt = RandomNumberGenerator.GetBytes(Scram.SaltBytes);
        var key = new PasswordKey("correct horse");
        key.SaltedPassword(salt, Iterations);

        key.Dispose();

        Assert.Throws<ObjectDisposedException>(() => key.SaltedPassword(salt, Iterations));
    }
}
