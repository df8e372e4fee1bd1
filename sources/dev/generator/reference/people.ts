/**
 * Names and email domains for customer profiles. The names mix the shop's
 * markets, accents and apostrophes included; email local parts are
 * transliterated from them.
 */
export const FIRST_NAMES = [
  "James", "Mary", "Olivia", "Liam", "Emma", "Noah", "Sophia", "Lucas", "Mia", "Ethan", "Amelia", "Oliver",
  "Charlotte", "Elijah", "Ava", "Mateo", "Chloé", "Léa", "Hugo", "Lukas", "Jonas", "Zoë", "Sofía", "Lucía",
  "Daan", "Saoirse", "Giulia", "Marco", "Aisha", "Wei", "Priya", "Kenji", "Fatima", "Omar", "Björn", "Anaïs",
];
export const LAST_NAMES = [
  "Smith", "Johnson", "Williams", "Brown", "Jones", "Garcia", "Miller", "Davis", "Müller", "Schmidt", "Schneider",
  "Fischer", "Martin", "Bernard", "Dubois", "Durand", "de Vries", "Jansen", "García", "Fernández", "López",
  "Murphy", "O'Brien", "Kelly", "Rossi", "Russo", "Bianchi", "Taylor", "Evans", "Wilson", "Nguyen", "Khan",
  "Patel", "Kowalski", "Novák", "Silva",
];
/** Reserved example domains only: no generated address can reach a real mailbox. */
export const EMAIL_DOMAINS = ["example.com", "example.org", "example.net", "mail.example.com"];

/** Accented letters that appear in the names above, as email-safe ASCII. */
export const TRANSLIT: Record<string, string> = {
  "á": "a", "à": "a", "â": "a", "ä": "a", "ã": "a", "å": "a", "æ": "ae", "ç": "c", "é": "e", "è": "e", "ê": "e",
  "ë": "e", "í": "i", "ì": "i", "î": "i", "ï": "i", "ñ": "n", "ó": "o", "ò": "o", "ô": "o", "ö": "o", "õ": "o",
  "ø": "o", "ß": "ss", "ú": "u", "ù": "u", "û": "u", "ü": "u", "ý": "y", "ÿ": "y",
};
