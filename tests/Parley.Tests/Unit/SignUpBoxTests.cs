using System.Security.Cryptography;
using System.Text;
using Parley.Protocol.Messages;
using Parley.Protocol.Security;

namespace Parley.Tests.Unit;

public sealed class SignUpBoxTests : IDisposable
{
    private readonly EcdhKey _serverKey = new();
    private readonly EcdhKey _clientKey = new();
    private readonly byte[] _storedKey = RandomNumberGenerator.GetBytes(Scram.KeyBytes);
    private readonly byte[] _serverScramKey = RandomNumberGenerator.GetBytes(Scram.KeyBytes);

    private SignUpForm Form => new(
        "alice", CheckOnly: false, Invite: "ABCDEF-GHIJKL",
        Salt: Convert.ToBase64String(RandomNumberGenerator.GetBytes(Scram.SaltBytes)), Iterations: Scram.MinimumIterations,
        StoredKey: Convert.ToBase64String(_storedKey), ServerKey: Convert.ToBase64String(_serverScramKey));

    public void Dispose()
    {
        _serverKey.Dispose();
        _clientKey.Dispose();
    }

    private SignUpBox ClientBox() => SignUpBox.ForClient(_clientKey, _serverKey.PublicKeyBase64)!;

    private SignUpBox ServerBox() => SignUpBox.ForServer(_serverKey, _clientKey.PublicKeyBase64)!;

    [Fact]
    public void A_form_sealed_by_the_client_opens_on_the_server()
    {
        var form = Form;
        Assert.Equal(form, ServerBox().OpenForm(ClientBox().SealForm(form)));
    }

    [Fact]
    public void The_outcome_sealed_by_the_server_opens_on_the_client()
    {
        var outcome = new SignUpOutcome("alice", SignUpCodes.Created, "Signed up as alice.");
        Assert.Equal(outcome, ClientBox().OpenOutcome(ServerBox().SealOutcome(outcome)));
    }

    [Fact]
    public void A_server_with_another_key_cannot_open_the_form()
    {
        using var otherServer = new EcdhKey();
        var box = SignUpBox.ForServer(otherServer, _clientKey.PublicKeyBase64);
        Assert.NotNull(box);
        Assert.Null(box.OpenForm(ClientBox().SealForm(Form)));
    }

    [Fact]
    public void Another_client_cannot_open_the_outcome_meant_for_the_asking_client()
    {
        using var otherClient = new EcdhKey();
        var sealedOutcome = ServerBox().SealOutcome(new SignUpOutcome("alice", SignUpCodes.Created, "Signed up as alice."));
        Assert.Null(SignUpBox.ForClient(otherClient, _serverKey.PublicKeyBase64)!.OpenOutcome(sealedOutcome));
    }

    [Fact]
    public void A_form_reflected_back_to_the_client_is_not_taken_for_an_outcome() =>
        Assert.Null(ClientBox().OpenOutcome(ClientBox().SealForm(Form)));

    [Theory]
    [InlineData(0)]    // nonce
    [InlineData(20)]   // ciphertext
    [InlineData(-1)]   // tag
    public void A_tampered_box_does_not_open(int position)
    {
        var box = Convert.FromBase64String(ClientBox().SealForm(Form));
        box[position < 0 ? box.Length + position : position] ^= 0x01;
        Assert.Null(ServerBox().OpenForm(Convert.ToBase64String(box)));
    }

    [Theory]
    [InlineData("")]
    [InlineData("not base64!")]
    [InlineData("AAAA")]
    public void A_malformed_box_does_not_open(string sealedText) => Assert.Null(ServerBox().OpenForm(sealedText));

    [Fact]
    public void The_sealed_form_does_not_show_the_verifier()
    {
        var form = Form;
        var sealedText = ClientBox().SealForm(form);
        var sealedBytes = Convert.FromBase64String(sealedText);

        Assert.DoesNotContain(form.StoredKey!, sealedText, StringComparison.Ordinal);
        Assert.DoesNotContain(form.ServerKey!, sealedText, StringComparison.Ordinal);
        Assert.False(Contains(sealedBytes, _storedKey));
        Assert.False(Contains(sealedBytes, _serverScramKey));
        Assert.False(Contains(sealedBytes, Encoding.ASCII.GetBytes(form.StoredKey!)));
        Assert.False(Contains(sealedBytes, Encoding.ASCII.GetBytes(form.ServerKey!)));
        Assert.False(Contains(sealedBytes, Encoding.ASCII.GetBytes(form.Invite!)));
    }

    [Theory]
    [InlineData("not base64!")]
    [InlineData("")]
    [InlineData("BAAA")] // too short to be a point
    public void A_client_key_that_is_not_a_point_gives_no_box(string clientKey) => Assert.Null(SignUpBox.ForServer(_serverKey, clientKey));

    [Fact]
    public void A_client_key_off_the_curve_gives_no_box()
    {
        var point = new byte[65];
        point[0] = 0x04;
        point[32] = 1; // x = 1
        point[64] = 1; // y = 1: not on P-256
        Assert.Null(SignUpBox.ForServer(_serverKey, Convert.ToBase64String(point)));
    }

    [Fact]
    public void A_compressed_client_key_gives_no_box()
    {
        var point = Convert.FromBase64String(_clientKey.PublicKeyBase64);
        point[0] = 0x02;
        Assert.Null(SignUpBox.ForServer(_serverKey, Convert.ToBase64String(point)));
    }

    private static bool Contains(byte[] haystack, byte[] needle) => haystack.AsSpan().IndexOf(needle) >= 0;
}
