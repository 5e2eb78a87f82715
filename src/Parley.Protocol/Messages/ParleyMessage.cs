using System.Text.Json.Serialization;

namespace Parley.Protocol.Messages;

/// <summary>
/// Every Parley message is one JSON object whose <c>msgtype</c> key names its type (seed 000: "Message types are
/// identified with the msgtype key present in all messages"). The names are seed 001's; see docs/PROTOCOL.md.
/// </summary>
[JsonPolymorphic(TypeDiscriminatorPropertyName = "msgtype", IgnoreUnrecognizedTypeDiscriminators = false)]
[JsonDerivedType(typeof(Hello), "HELLO")]
[JsonDerivedType(typeof(Challenge), "CHALLENGE")]
[JsonDerivedType(typeof(Response), "RESPONSE")]
[JsonDerivedType(typeof(AuthSuccess), "AUTH_SUCCESS")]
[JsonDerivedType(typeof(AuthFail), "AUTH_FAIL")]
[JsonDerivedType(typeof(Connect), "CONNECT")]
[JsonDerivedType(typeof(Connected), "CONNECTED")]
[JsonDerivedType(typeof(ChatRequest), "CHAT_REQUEST")]
[JsonDerivedType(typeof(ChatStarted), "CHAT_STARTED")]
[JsonDerivedType(typeof(Unreachable), "UNREACHABLE")]
[JsonDerivedType(typeof(EndRequest), "END_REQUEST")]
[JsonDerivedType(typeof(EndNotif), "END_NOTIF")]
[JsonDerivedType(typeof(Chat), "CHAT")]
[JsonDerivedType(typeof(HistoryReq), "HISTORY_REQ")]
[JsonDerivedType(typeof(HistoryResp), "HISTORY_RESP")]
[JsonDerivedType(typeof(HistoryEnd), "HISTORY_END")]
[JsonDerivedType(typeof(LogOff), "LOG_OFF")]
[JsonDerivedType(typeof(Ping), "PING")]
[JsonDerivedType(typeof(Pong), "PONG")]
[JsonDerivedType(typeof(Error), "ERROR")]
[JsonDerivedType(typeof(SignUpHello), "SIGNUP_HELLO")]
[JsonDerivedType(typeof(SignUpInfo), "SIGNUP_INFO")]
[JsonDerivedType(typeof(SignUp), "SIGNUP")]
[JsonDerivedType(typeof(SignUpResult), "SIGNUP_RESULT")]
[JsonDerivedType(typeof(ListReq), "LIST_REQ")]
[JsonDerivedType(typeof(ListResp), "LIST_RESP")]
[JsonDerivedType(typeof(Passwd), "PASSWD")]
[JsonDerivedType(typeof(PasswdOk), "PASSWD_OK")]
public abstract record ParleyMessage;
