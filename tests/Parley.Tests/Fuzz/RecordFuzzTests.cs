using System.Security.Cryptography;
using System.Text;
using FsCheck;
using FsCheck.Fluent;
using Parley.Protocol.Framing;
using Parley.Protocol.Messages;
using Parley.Protocol.Security;
using Parley.Tests.Fuzz.Support;
using Parley.Tests.Support;
using Xunit.Abstractions;

namespace Parley.Tests.Fuzz;

/// <summary>
/// Issue #9: the record layer (docs/PROTOCOL.md §4.6) over every alteration an attacker on the stream can make. A
/// record that is not byte for byte the next one sealed never opens, and opening never throws: a bit flip anywhere in
/// header or body, a truncation, a reordering, a replay. Over a channel, the records before the damage are read and
/// the damage ends the stream with a fatal ERROR (or a clean end when it was cut at a record boundary, §4.6).
/// </summary>
public sealed class RecordFuzzTests(ITestOutputHelper output)
{
    private static readonly Gen<byte[][]> Plaintexts = MessageCorpus.Encoded.ArrayOf().Select(a => a.Take(5).ToArray()).Where(a => a.Length > 0);

    [Fact]
    public void Every_single_bit_flip_of_a_record_fails_to_open()
    {
        var keys = NewKeys();
        using var sealer = new RecordCipher(keys);
        var (header, body) = SealedRecords.Seal(sealer, """{"msgtype":"PING"}""");
        byte[] frame = [.. header, .. body];
        for (var bit = 0; bit < frame.Length * 8; bit++)
        {
            var flipped = Flip(frame, bit);
            using var opener = new RecordCipher(keys);
            Assert.Null(SealedRecords.Open(opener, (flipped[..Frame.HeaderBytes], flipped[Frame.HeaderBytes..])));
        }

        using var intact = new RecordCipher(keys);
        Assert.NotNull(SealedRecords.Open(intact, (header, body)));
        output.WriteLine($"{frame.Length * 8} single-bit flips, each refused");
    }

    [Fact]
    public void An_altered_record_fails_and_the_records_before_it_open() =>
        FuzzRun.Check(output, nameof(RecordFuzzTests) + ".altered", 500,
            Prop.ForAll(Arb.From(Plaintexts), Arb.From(Gen.Choose(0, int.MaxValue).Three()), (plains, picks) =>
            {
                var keys = NewKeys();
                using var sealer = new RecordCipher(keys);
                var records = plains.Select(p => Seal(sealer, p)).ToArray();
                var target = picks.Item1 % records.Length;
                var (header, body) = records[target];
                records[target] = (picks.Item2 % 3) switch
                {
                    0 => (header, Flip(body, picks.Item3)),
                    1 => (Flip(header, picks.Item3), body),
                    _ => (header, body[..(picks.Item3 % body.Length)]), // truncated, down to shorter than a tag
                };
                using var opener = new RecordCipher(keys);
                return records.Take(target).All(r => Open(opener, r)) && !Open(opener, records[target]);
            }));

    [Fact]
    public void Reordered_replayed_and_dropped_records_fail() =>
        FuzzRun.Check(output, nameof(RecordFuzzTests) + ".order", 500,
            Prop.ForAll(Arb.From(Plaintexts), Arb.From(Gen.Choose(0, 4).ArrayOf()), (plains, order) =>
            {
                var keys = NewKeys();
                using var sealer = new RecordCipher(keys);
                var records = plains.Select(p => Seal(sealer, p)).ToArray();
                using var opener = new RecordCipher(keys);

                // Delivered in this order, record k opens only at position k; the first one out of place ends the link.
                for (var position = 0; position < order.Length; position++)
                {
                    var k = order[position] % records.Length;
                    if (Open(opener, records[k]) != (k == position))
                    {
                        return false;
                    }

                    if (k != position)
                    {
                        return true;
                    }
                }

                return true;
            }));

    [Fact]
    public void A_damaged_stream_of_records_yields_the_intact_ones_then_a_fatal_error() =>
        FuzzRun.Check(output, nameof(RecordFuzzTests) + ".stream", 800,
            Prop.ForAll(Arb.From(Plaintexts), Arb.From(JsonMutator.Stacks), Arb.From(Gen.Choose(1, 200).ArrayOf()), (plains, mutations, chunks) =>
            {
                var keys = NewKeys();
                using var sealer = new RecordCipher(keys);
                var frames = plains.Select(p => Seal(sealer, p)).Select(r => (byte[])[.. r.Header, .. r.Body]).ToArray();
                byte[] stream = [.. frames.SelectMany(f => f)];
                var damaged = JsonMutator.Apply(stream, mutations);

                // The records whose bytes, and every byte before them, came through unchanged.
                var intact = 0;
                for (var end = 0; intact < frames.Length && (end += frames[intact].Length) <= damaged.Length && damaged.AsSpan(0, end).SequenceEqual(stream.AsSpan(0, end));)
                {
                    intact++;
                }

                var cleanEnd = damaged.Length == frames.Take(intact).Sum(f => f.Length);
                var actual = ChannelHarness.Read(damaged, chunks, Frame.DefaultMaxBodyBytes, keys);
                var expected = plains.Take(intact).Select(p => Encoding.UTF8.GetString(MessageCodec.ToBytes(MessageCodec.Read(p))));
                var last = actual[^1];
                return (actual.Take(actual.Count - 1).SequenceEqual(expected)
                    && (cleanEnd ? last == "EOF" : last is "!RECORD_INVALID" or "!FRAME_TOO_LARGE" or "!BAD_MESSAGE"))
                    .Label($"{intact} intact, clean end {cleanEnd}, read [{string.Join(" | ", actual)}]");
            }));

    private static DirectionKeys NewKeys() => new(RandomNumberGenerator.GetBytes(32), RandomNumberGenerator.GetBytes(12));

    private static (byte[] Header, byte[] Body) Seal(RecordCipher sealer, byte[] plain) => SealedRecords.Seal(sealer, Encoding.UTF8.GetString(plain));

    private static bool Open(RecordCipher opener, (byte[] Header, byte[] Body) record) => SealedRecords.Open(opener, record) is not null;

    private static byte[] Flip(byte[] bytes, int pick)
    {
        var copy = (byte[])bytes.Clone();
        copy[pick / 8 % copy.Length] ^= (byte)(1 << (pick % 8));
        return copy;
    }
}
