using System.Text;

namespace Parley.Cli.Commands;

/// <summary>Reads passwords without echo on a terminal, or one line from stdin for scripts.</summary>
internal static class PasswordReader
{
    public static string? FromStdin() => Console.In.ReadLine();

    public static string? FromTerminal(string prompt)
    {
        if (Console.IsInputRedirected)
        {
            return null;
        }

        Console.Write(prompt);
        var password = new StringBuilder();
        while (true)
        {
            var key = Console.ReadKey(intercept: true);
            if (key.Key == ConsoleKey.Enter)
            {
                Console.WriteLine();
                return password.ToString();
            }

            if (key.Key == ConsoleKey.Backspace)
            {
                if (password.Length > 0)
                {
                    password.Length--;
                }
            }
            else if (!char.IsControl(key.KeyChar))
            {
                password.Append(key.KeyChar);
            }
        }
    }
}
