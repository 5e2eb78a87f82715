using FsCheck;
using FsCheck.Fluent;
using Parley.Protocol;
using Parley.Protocol.Messages;

namespace Parley.Tests.Fuzz.Support;

/// <summary>Well-formed messages to mutate: one or more of every shape a client sends, and some of the server's.</summary>
internal static class MessageCorpus
{
    private const string B64 = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";

    public static readonly ParleyMessage[] Messages =
    [
        new Hello("alice", "n0nce-n0nce-n0nce-n0nce", B64),
        new Response("alice", "n0nce-n0nce-n0nce-n0nce" + B64, B64),
        new SignUpHello(new string('p', 200)),
        new SignUp(B64, B64 + B64),
        new Connect("alice", B64),
        new ChatRequest("bob"),
        new EndRequest("ab12cd34"),
        new Chat("ab12cd34", "héllo ✓ <b>&amp;</b>"),
        new HistoryReq("bob"),
        new LogOff(),
        new Ping(),
        new ListReq(OnlineOnly: true),
        new Passwd(B64, B64, 4096, B64, B64, new KeyBackupInfo("f1", B64, 4096, B64)),
        new Dm("bob", "see you at 5", "id-1"),
        new DmAck(42),
        new Talk("bob", 20),
        new Read("bob", 7),
        new Join("#lobby"),
        new Part("#lobby"),
        new Say("#lobby", "hi all"),
        new RoomsReq(),
        new KeysPut(B64, B64, B64, new KeyBackupInfo("f1", B64, 4096, B64)),
        new KeysGet("bob"),
        new Listen(65000),
        new LookupRequest("bob"),
        new Challenge("r", B64, 4096, B64),
        new Connected("alice", 900, 30, 4096, 4096, 8, [new UnreadCount("bob", 2)]),
        new Chat("ab12cd34", "relayed", "bob", 1_700_000_000_000),
        new HistoryResp("bob", "old", "ab12cd34", 1_700_000_000_000, "alice"),
        new Error(ErrorCodes.BadMessage, "text"),
    ];

    public static Gen<byte[]> Encoded { get; } = Gen.Elements(Messages).Select(MessageCodec.ToBytes);

    /// <summary>The codes a decoder may answer malformed input with (docs/PROTOCOL.md §4.4, §6).</summary>
    public static readonly string[] DecodeErrors = [ErrorCodes.BadMessage, ErrorCodes.UnknownMsgType];

    /// <summary>Every code the server may send (docs/PROTOCOL.md §6).</summary>
    public static readonly HashSet<string> DocumentedCodes = [.. typeof(ErrorCodes).GetFields().Select(f => (string)f.GetValue(null)!)];

    /// <summary>
    /// Decodes <paramref name="json"/> as the server would: the message, or the code of the ERROR it answers with.
    /// Anything other than a <see cref="ProtocolException"/> escapes, and fails the test that called it.
    /// </summary>
    public static (ParleyMessage? Message, string? Code) Decode(ReadOnlySpan<byte> json)
    {
        try
        {
            return (MessageCodec.Read(json), null);
        }
        catch (ProtocolException e)
        {
            return (null, e.Code);
        }
    }
}
