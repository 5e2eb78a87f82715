using System.Text;
using Parley.Protocol;
using Parley.Protocol.Messages;

namespace Parley.Tests.Unit;

public sealed class MessageCodecTests
{
    private static ParleyMessage Read(string json) => MessageCodec.Read(Encoding.UTF8.GetBytes(json));

    [Fact]
    public void Messages_carry_msgtype_and_snake_case_fields()
    {
        var json = Encoding.UTF8.GetString(MessageCodec.ToBytes(new ChatStarted("ab12cd34", "bob")));
        Assert.Equal("""{"msgtype":"CHAT_STARTED","session_id":"ab12cd34","client_id":"bob"}""", json);
    }

    [Fact]
    public void Msgtype_may_come_after_the_other_fields()
    {
        Assert.Equal(new ChatRequest("bob"), Read("""{"client_id":"bob","msgtype":"CHAT_REQUEST"}"""));
    }

    [Fact]
    public void Optional_fields_are_omitted_when_absent()
    {
        var json = Encoding.UTF8.GetString(MessageCodec.ToBytes(new Chat("s", "hi")));
        Assert.DoesNotContain("from", json);
        Assert.Equal(new Chat("s", "hi"), Read(json));
    }

    [Theory]
    [InlineData("""{"msgtype":"CHAT_REQUEST""")]
    [InlineData("""not json""")]
    [InlineData("""{"msgtype":"CHAT_REQUEST"}""")]
    [InlineData("""{"msgtype":"CHAT_REQUEST","client_id":null}""")]
    [InlineData("""{"msgtype":"CHAT_REQUEST","client_id":7}""")]
    [InlineData("""[1,2]""")]
    public void Malformed_messages_are_BAD_MESSAGE(string json)
    {
        var e = Assert.Throws<ProtocolException>(() => Read(json));
        Assert.Equal(ErrorCodes.BadMessage, e.Code);
        Assert.False(e.Fatal);
    }

    [Theory]
    [InlineData("""{"msgtype":"SHOUT","text":"hi"}""")]
    [InlineData("""{"client_id":"bob"}""")]
    public void Unknown_or_missing_msgtype_is_UNKNOWN_MSGTYPE(string json)
    {
        var e = Assert.Throws<ProtocolException>(() => Read(json));
        Assert.Equal(ErrorCodes.UnknownMsgType, e.Code);
    }

    [Fact]
    public void The_error_text_never_quotes_the_input()
    {
        var e = Assert.Throws<ProtocolException>(() => Read("""{"msgtype":"CHAT","session_id":"s","message":"my secret""" + "\""));
        Assert.DoesNotContain("secret", e.Message);
    }
}
