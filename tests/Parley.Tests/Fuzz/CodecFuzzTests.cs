using System.Text;
using FsCheck;
using FsCheck.Fluent;
using Parley.Protocol;
using Parley.Protocol.Messages;
using Parley.Tests.Fuzz.Support;
using Xunit.Abstractions;

namespace Parley.Tests.Fuzz;

/// <summary>
/// Issue #9: the JSON decoder over hostile input. Whatever the bytes, <see cref="MessageCodec.Read"/> returns a message
/// or throws a non-fatal <see cref="ProtocolException"/> BAD_MESSAGE or UNKNOWN_MSGTYPE (docs/PROTOCOL.md §1.4, §6);
/// any other exception would escape the server's handlers. A message it accepts can be encoded again, as the server
/// does when it relays or stores it.
/// </summary>
public sealed class CodecFuzzTests(ITestOutputHelper output)
{
    [Fact]
    public void Mutated_messages_decode_or_are_refused_with_a_defined_code() =>
        FuzzRun.Check(output, nameof(CodecFuzzTests) + ".mutated", 2000,
            Prop.ForAll(Arb.From(MessageCorpus.Encoded), Arb.From(JsonMutator.Stacks),
                (json, mutations) => DecodesOrRefuses(JsonMutator.Apply(json, mutations))));

    [Fact]
    public void Random_bytes_decode_or_are_refused_with_a_defined_code() =>
        FuzzRun.Check(output, nameof(CodecFuzzTests) + ".random", 1000,
            Prop.ForAll(Arb.From(Gen.Choose(0, 255).Select(b => (byte)b).ArrayOf()), DecodesOrRefuses));

    [Theory]
    [InlineData(10_000, "[", "]")]
    [InlineData(10_000, "{\"a\":", "}")]
    [InlineData(100_000, "[", "]")]
    public void Deep_nesting_is_BAD_MESSAGE_not_a_stack_overflow(int depth, string open, string close)
    {
        var inner = string.Concat(Enumerable.Repeat(open, depth)) + "1" + string.Concat(Enumerable.Repeat(close, depth));
        Assert.Equal(ErrorCodes.BadMessage, MessageCorpus.Decode(Encoding.UTF8.GetBytes(inner)).Code);
        Assert.Equal(ErrorCodes.BadMessage, MessageCorpus.Decode(Encoding.UTF8.GetBytes($$"""{"msgtype":"CHAT","session_id":"s","message":{{inner}}}""")).Code);
        Assert.Equal(ErrorCodes.BadMessage, MessageCorpus.Decode(Encoding.UTF8.GetBytes($$"""{"msgtype":"LIST_REQ","x":{{inner}}}""")).Code);
    }

    [Theory]
    [InlineData(new byte[] { 0xFF })]
    [InlineData(new byte[] { 0xC0, 0xAF })]
    [InlineData(new byte[] { 0xED, 0xA0, 0x80 })]
    [InlineData(new byte[] { 0xF4, 0x90, 0x80, 0x80 })]
    public void Invalid_UTF8_inside_a_string_is_BAD_MESSAGE(byte[] invalid)
    {
        byte[] json = [.. """{"msgtype":"CHAT","session_id":"s","message":"a"""u8, .. invalid, .. "\"}"u8];
        Assert.Equal(ErrorCodes.BadMessage, MessageCorpus.Decode(json).Code);
    }

    [Theory]
    [InlineData("""{"msgtype":"CHAT","session_id":"s","message":"\ud800"}""")]
    [InlineData("""{"msgtype":"CHAT","session_id":"s","message":"\udc00\ud800"}""")]
    public void A_lone_surrogate_escape_is_refused_or_survives_a_relay(string json)
    {
        // A string the server accepts is one it must be able to relay and store (encode again).
        Assert.True(DecodesOrRefuses(Encoding.UTF8.GetBytes(json)));
    }

    [Theory]
    [InlineData("""{"msgtype":"DM_ACK","seq":9223372036854775808}""")]
    [InlineData("""{"msgtype":"TALK","client_id":"bob","limit":2147483648}""")]
    [InlineData("""{"msgtype":"TALK","client_id":"bob","limit":1e400}""")]
    [InlineData("""{"msgtype":"TALK","client_id":"bob","limit":50.0}""")]
    [InlineData("""{"msgtype":"LISTEN","port":"65000"}""")]
    [InlineData("""{"msgtype":"CHAT","session_id":"s","message":null}""")]
    [InlineData("""{"msgtype":"CHAT","session_id":["s"],"message":"m"}""")]
    [InlineData("""{"msgtype":"PING","msgtype":"LOG_OFF"}""")]
    public void Huge_numbers_wrong_types_nulls_and_a_repeated_msgtype_are_BAD_MESSAGE(string json) =>
        Assert.Equal(ErrorCodes.BadMessage, MessageCorpus.Decode(Encoding.UTF8.GetBytes(json)).Code);

    [Fact]
    public void A_repeated_field_takes_its_last_value() =>
        Assert.Equal(new ChatRequest("carol"), MessageCorpus.Decode("""{"msgtype":"CHAT_REQUEST","client_id":"bob","client_id":"carol"}"""u8).Message);

    private static bool DecodesOrRefuses(byte[] json)
    {
        try
        {
            var message = MessageCodec.Read(json);
            var again = MessageCodec.ToBytes(message);
            return MessageCodec.ToBytes(MessageCodec.Read(again)).AsSpan().SequenceEqual(again);
        }
        catch (ProtocolException e)
        {
            return MessageCorpus.DecodeErrors.Contains(e.Code) && !e.Fatal;
        }
    }
}
