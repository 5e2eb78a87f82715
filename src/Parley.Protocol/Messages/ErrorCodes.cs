namespace Parley.Protocol.Messages;

/// <summary>The stable <see cref="Error.Code"/> values; docs/PROTOCOL.md §6 says which close the connection.</summary>
public static class ErrorCodes
{
    public const string BadMessage = "BAD_MESSAGE";
    public const string UnknownMsgType = "UNKNOWN_MSGTYPE";
    public const string FrameTooLarge = "FRAME_TOO_LARGE";
    public const string MessageTooLarge = "MESSAGE_TOO_LARGE";
    public const string NotAllowed = "NOT_ALLOWED";
    public const string NotInSession = "NOT_IN_SESSION";
    public const string AlreadyInSession = "ALREADY_IN_SESSION";
    public const string InvalidClientId = "INVALID_CLIENT_ID";
    public const string CookieInvalid = "COOKIE_INVALID";
    public const string ChallengeInvalid = "CHALLENGE_INVALID";
    public const string RecordInvalid = "RECORD_INVALID";
    public const string RateLimited = "RATE_LIMITED";
    public const string ServerBusy = "SERVER_BUSY";
    public const string IdleTimeout = "IDLE_TIMEOUT";
    public const string LoggedOnElsewhere = "LOGGED_ON_ELSEWHERE";
    public const string ShuttingDown = "SHUTTING_DOWN";
    public const string Kicked = "KICKED";
    public const string StorageFailed = "STORAGE_FAILED";
    public const string SignUpClosed = "SIGNUP_CLOSED";
    public const string WrongPassword = "WRONG_PASSWORD";
    public const string BadVerifier = "BAD_VERIFIER";
    public const string LockedOut = "LOCKED_OUT";
    public const string AccountRemoved = "ACCOUNT_REMOVED";
    public const string PasswordReset = "PASSWORD_RESET";
    public const string UnknownUser = "UNKNOWN_USER";
    public const string QueueFull = "QUEUE_FULL";
    public const string InvalidRoom = "INVALID_ROOM";
    public const string RoomFull = "ROOM_FULL";
    public const string NotInRoom = "NOT_IN_ROOM";
    public const string TooManyRooms = "TOO_MANY_ROOMS";
    public const string KeysInvalid = "KEYS_INVALID";
    public const string TooManyKeys = "TOO_MANY_KEYS";
}
