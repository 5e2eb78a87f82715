using System.Security.Cryptography;
using System.Text;
using Parley.Protocol.Framing;
using Parley.Protocol.Security;

namespace Parley.Tests.Unit;

public sealed class RecordCipherTests
{
    private static readonly DirectionKeys Keys = new(RandomNumberGenerator.GetBytes(32), RandomNumberGenerator.GetBytes(12));

    private static (byte[] Header, byte[] Body) SealRecord(RecordCipher sealer, string text)
    {
        var plain = Encoding.UTF8.GetBytes(text);
        var header = new byte[Frame.HeaderBytes];
        Frame.WriteHeader(header, plain.Length + RecordCipher.TagBytes, FrameKind.Sealed);
        var body = new byte[plain.Length + RecordCipher.TagBytes];
        sealer.Seal(header, plain, body);
        return (header, body);
    }

    private static string? Open(RecordCipher opener, (byte[] Header, byte[] Body) record)
    {
        var plain = new byte[record.Body.Length];
        return opener.TryOpen(record.Header, record.Body, plain)
            ? Encoding.UTF8.GetString(plain, 0, record.Body.Length - RecordCipher.TagBytes)
            : null;
    }

    [Fact]
    public void Records_open_in_order()
    {
        using var sealer = new RecordCipher(Keys);
        using var opener = new RecordCipher(Keys);
        var first = SealRecord(sealer, "one");
        var second = SealRecord(sealer, "two");
        Assert.Equal("one", Open(opener, first));
        Assert.Equal("two", Open(opener, second));
    }

    [Fact]
    public void The_same_plaintext_seals_differently_each_time()
    {
        using var sealer = new RecordCipher(Keys);
        Assert.NotEqual(SealRecord(sealer, "same").Body, SealRecord(sealer, "same").Body);
    }

    [Fact]
    public void A_flipped_ciphertext_bit_fails()
    {
        using var sealer = new RecordCipher(Keys);
        using var opener = new RecordCipher(Keys);
        var record = SealRecord(sealer, "attack at dawn");
        record.Body[3] ^= 0x01;
        Assert.Null(Open(opener, record));
    }

    [Fact]
    public void A_changed_header_fails_because_it_is_associated_data()
    {
        using var sealer = new RecordCipher(Keys);
        using var opener = new RecordCipher(Keys);
        var record = SealRecord(sealer, "hello");
        record.Header[4] = (byte)FrameKind.Plain;
        Assert.Null(Open(opener, record));
    }

    [Fact]
    public void A_replayed_record_fails()
    {
        using var sealer = new RecordCipher(Keys);
        using var opener = new RecordCipher(Keys);
        var record = SealRecord(sealer, "pay bob 10");
        Assert.Equal("pay bob 10", Open(opener, record));
        Assert.Null(Open(opener, record));
    }

    [Fact]
    public void Reordered_records_fail()
    {
        using var sealer = new RecordCipher(Keys);
        using var opener = new RecordCipher(Keys);
        var first = SealRecord(sealer, "first");
        var second = SealRecord(sealer, "second");
        Assert.Null(Open(opener, second));
        _ = first;
    }

    [Fact]
    public void A_dropped_record_makes_the_next_one_fail()
    {
        using var sealer = new RecordCipher(Keys);
        using var opener = new RecordCipher(Keys);
        _ = SealRecord(sealer, "lost in transit");
        Assert.Null(Open(opener, SealRecord(sealer, "arrives")));
    }

    [Fact]
    public void A_record_under_the_other_direction_key_fails()
    {
        using var sealer = new RecordCipher(Keys);
        using var opener = new RecordCipher(new DirectionKeys(RandomNumberGenerator.GetBytes(32), Keys.Iv));
        Assert.Null(Open(opener, SealRecord(sealer, "hello")));
    }
}
