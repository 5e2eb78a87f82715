using System.Text;
using Parley.Protocol.Security;

namespace Parley.Tests.Unit;

public sealed class ScramTests
{
    // RFC 7677 §3: user "user", password "pencil", i=4096.
    private const string ClientFirstBare = "n=user,r=rOprNGfwEbeRWgbNEkqO";
    private const string ServerFirst = "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096";
    private const string ClientFinalWithoutProof = "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0";
    private static readonly byte[] AuthMessage = Encoding.UTF8.GetBytes($"{ClientFirstBare},{ServerFirst},{ClientFinalWithoutProof}");
    private static readonly byte[] Salt = Convert.FromBase64String("W22ZaJ0SNY7soEsUEjb6gQ==");

    [Fact]
    public void Client_proof_matches_the_RFC_7677_test_vector()
    {
        var salted = Scram.SaltedPassword("pencil", Salt, 4096);
        var proof = Scram.ClientProof(Scram.ClientKey(salted), AuthMessage);
        Assert.Equal("dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=", Convert.ToBase64String(proof));
    }

    [Fact]
    public void Server_signature_matches_the_RFC_7677_test_vector()
    {
        var verifier = Scram.CreateVerifier("pencil", 4096, Salt);
        Assert.Equal("6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=", Convert.ToBase64String(Scram.ServerSignature(verifier.ServerKey, AuthMessage)));
    }

    [Fact]
    public void The_server_accepts_the_RFC_proof_with_only_the_stored_verifier()
    {
        var verifier = Scram.CreateVerifier("pencil", 4096, Salt);
        var proof = Convert.FromBase64String("dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=");
        var clientKey = Scram.VerifyClientProof(verifier.StoredKey, proof, AuthMessage);
        Assert.NotNull(clientKey);
        Assert.Equal(Scram.ClientKey(Scram.SaltedPassword("pencil", Salt, 4096)), clientKey);
    }

    [Fact]
    public void A_wrong_password_or_a_different_transcript_is_refused()
    {
        var verifier = Scram.CreateVerifier("pencil", 4096, Salt);
        var wrong = Scram.ClientProof(Scram.ClientKey(Scram.SaltedPassword("pencil2", Salt, 4096)), AuthMessage);
        Assert.Null(Scram.VerifyClientProof(verifier.StoredKey, wrong, AuthMessage));

        var right = Scram.ClientProof(Scram.ClientKey(Scram.SaltedPassword("pencil", Salt, 4096)), AuthMessage);
        var otherTranscript = Encoding.UTF8.GetBytes("n=user,r=other," + ServerFirst);
        Assert.Null(Scram.VerifyClientProof(verifier.StoredKey, right, otherTranscript));
        Assert.Null(Scram.VerifyClientProof(verifier.StoredKey, right[..16], AuthMessage));
    }

    [Fact]
    public void The_verifier_holds_neither_the_password_nor_the_salted_password()
    {
        var verifier = Scram.CreateVerifier("correct horse", 4096);
        var salted = Scram.SaltedPassword("correct horse", verifier.Salt, 4096);
        Assert.NotEqual(salted, verifier.StoredKey);
        Assert.NotEqual(salted, verifier.ServerKey);
        Assert.DoesNotContain("correct horse", Encoding.UTF8.GetString(verifier.StoredKey) + Encoding.UTF8.GetString(verifier.ServerKey));
        Assert.Equal(Scram.SaltBytes, verifier.Salt.Length);
    }

    [Fact]
    public void Passwords_are_NFKC_normalized_so_equivalent_spellings_log_on()
    {
        // U+FB01 LATIN SMALL LIGATURE FI is NFKC-equivalent to "fi"; U+00C5 and "A" + U+030A are one letter two ways.
        Assert.Equal(Scram.SaltedPassword("\uFB01sh", Salt, 4096), Scram.SaltedPassword("fish", Salt, 4096));
        Assert.Equal(Scram.SaltedPassword("\u00C5se", Salt, 4096), Scram.SaltedPassword("A\u030Ase", Salt, 4096));
        Assert.NotEqual(Scram.SaltedPassword("fish", Salt, 4096), Scram.SaltedPassword("Fish", Salt, 4096));
    }
}
