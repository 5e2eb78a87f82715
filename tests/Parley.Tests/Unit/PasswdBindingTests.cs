using Parley.Protocol.Security;

namespace Parley.Tests.Unit;

public sealed class PasswdBindingTests
{
    private static readonly byte[] OldSalt = Convert.FromBase64String("W22ZaJ0SNY7soEsUEjb6gQ==");
    private static readonly byte[] OldClientKey = Scram.ClientKey(Scram.SaltedPassword("old password", OldSalt, Scram.MinimumIterations));
    private static readonly byte[] OldStoredKey = Scram.StoredKey(OldClientKey);
    private static readonly ScramVerifier NewVerifier = Scram.CreateVerifier("new password", Scram.MinimumIterations);

    [Fact]
    public void A_proof_of_the_old_password_bound_to_the_new_verifier_verifies()
    {
        var proof = Scram.ClientProof(OldClientKey, Scram.PasswdBinding(NewVerifier));
        Assert.Equal(OldClientKey, Scram.VerifyClientProof(OldStoredKey, proof, Scram.PasswdBinding(NewVerifier)));
    }

    [Theory]
    [InlineData("salt")]
    [InlineData("iterations")]
    [InlineData("stored key")]
    [InlineData("server key")]
    public void The_proof_does_not_authorize_a_different_new_verifier(string changed)
    {
        var proof = Scram.ClientProof(OldClientKey, Scram.PasswdBinding(NewVerifier));
        var swapped = changed switch
        {
            "salt" => NewVerifier with { Salt = Flip(NewVerifier.Salt) },
            "iterations" => NewVerifier with { Iterations = NewVerifier.Iterations + 1 },
            "stored key" => NewVerifier with { StoredKey = Flip(NewVerifier.StoredKey) },
            _ => NewVerifier with { ServerKey = Flip(NewVerifier.ServerKey) },
        };
        Assert.Null(Scram.VerifyClientProof(OldStoredKey, proof, Scram.PasswdBinding(swapped)));
    }

    [Fact]
    public void A_proof_made_with_the_wrong_old_password_does_not_verify()
    {
        var wrongKey = Scram.ClientKey(Scram.SaltedPassword("guess", OldSalt, Scram.MinimumIterations));
        var proof = Scram.ClientProof(wrongKey, Scram.PasswdBinding(NewVerifier));
        Assert.Null(Scram.VerifyClientProof(OldStoredKey, proof, Scram.PasswdBinding(NewVerifier)));
    }

    private static byte[] Flip(byte[] bytes)
    {
        var copy = (byte[])bytes.Clone();
        copy[0] ^= 0x01;
        return copy;
    }
}
