using System.Security.Cryptography;
using System.Text;
using Parley.Protocol.Framing;
using Parley.Protocol.Security;
using Parley.Tests.Support;

namespace Parley.Tests.Unit;

public sealed class RecordCipherTests
{
    private static readonly DirectionKeys Keys = new(RandomNumberGenerator.GetBytes(32), RandomNumberGenerator.GetBytes(12));

    [Fact]
    public void Records_open_in_order()
    {
        using var sealer = new RecordCipher(Keys);
        using var opener = new RecordCipher(Keys);
        var first = SealedRecords.Seal(sealer, "one");
        var second = SealedRecords.Seal(sealer, "two");
        Assert.Equal("one", SealedRecords.Open(opener, first));
        Assert.Equal("two", SealedRecords.Open(opener, second));
    }

    [Fact]
    public void The_same_plaintext_seals_differently_each_time()
    {
        using var sealer = new RecordCipher(Keys);
        Assert.NotEqual(SealedRecords.Seal(sealer, "same").Body, SealedRecords.Seal(sealer, "same").Body);
    }

    [Fact]
    public void A_flipped_ciphertext_bit_fails()
    {
        using var sealer = new RecordCipher(Keys);
        using var opener = new RecordCipher(Keys);
        var record = SealedRecords.Seal(sealer, "attack at dawn");
        record.Body[3] ^= 0x01;
        Assert.Null(SealedRecords.Open(opener, record));
    }

    [Fact]
    public void A_changed_header_fails_because_it_is_associated_data()
    {
        using var sealer = new RecordCipher(Keys);
        using var opener = new RecordCipher(Keys);
        var record = SealedRecords.Seal(sealer, "hello");
        record.Header[4] = (byte)FrameKind.Plain;
        Assert.Null(SealedRecords.Open(opener, record));
    }

    [Fact]
    public void A_replayed_record_fails()
    {
        using var sealer = new RecordCipher(Keys);
        using var opener = new RecordCipher(Keys);
        var record = SealedRecords.Seal(sealer, "pay bob 10");
        Assert.Equal("pay bob 10", SealedRecords.Open(opener, record));
        Assert.Null(SealedRecords.Open(opener, record));
    }

    [Fact]
    public void Reordered_records_fail()
    {
        using var sealer = new RecordCipher(Keys);
        using var opener = new RecordCipher(Keys);
        var first = SealedRecords.Seal(sealer, "first");
        var second = SealedRecords.Seal(sealer, "second");
        Assert.Null(SealedRecords.Open(opener, second));
        _ = first;
    }

    [Fact]
    public void A_dropped_record_makes_the_next_one_fail()
    {
        using var sealer = new RecordCipher(Keys);
        using var opener = new RecordCipher(Keys);
        _ = SealedRecords.Seal(sealer, "lost in transit");
        Assert.Null(SealedRecords.Open(opener, SealedRecords.Seal(sealer, "arrives")));
    }

    [Fact]
    public void A_record_under_the_other_direction_key_fails()
    {
        using var sealer = new RecordCipher(Keys);
        using var opener = new RecordCipher(new DirectionKeys(RandomNumberGenerator.GetBytes(32), Keys.Iv));
        Assert.Null(SealedRecords.Open(opener, SealedRecords.Seal(sealer, "hello")));
    }
}
