#include "cal/booking_messages.hpp"

#include <cstdio>

namespace ruche::cal {
namespace {

struct Words {
  const char* weekdays[7];  // Monday first
  const char* months[12];
};

constexpr Words kFr = {{"lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche"},
                       {"janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août",
                        "septembre", "octobre", "novembre", "décembre"}};
constexpr Words kEn = {
    {"Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"},
    {"January", "February", "March", "April", "May", "June", "July", "August", "September",
     "October", "November", "December"}};
constexpr Words kEs = {{"lunes", "martes", "miércoles", "jueves", "viernes", "sábado", "domingo"},
                       {"enero", "febrero", "marzo", "abril", "mayo", "junio", "julio", "agosto",
                        "septiembre", "octubre", "noviembre", "diciembre"}};

std::string Lang(std::string_view l) {
  if (l == "fr" || l == "es") {
    return std::string(l);
  }
  return "en";
}

}  // namespace

std::string FormatWhen(std::string_view language, int64_t utc, const TimeZone& zone) {
  LocalDate d = zone.DateOf(utc);
  int minutes = zone.MinutesOf(utc);
  char hhmm[16];  // "HH:MM"; room for any int so the compiler sees no truncation
  std::snprintf(hhmm, sizeof hhmm, "%02d:%02d", minutes / 60, minutes % 60);
  std::string lang = Lang(language);
  const Words& w = lang == "fr" ? kFr : lang == "es" ? kEs : kEn;
  std::string day = std::to_string(d.day);
  std::string year = std::to_string(d.year);
  std::string wd = w.weekdays[Weekday(d)];
  std::string month = w.months[d.month - 1];
  std::string out;
  if (lang == "fr") {
    out = wd + " " + day + " " + month + " " + year + " à " + hhmm;
  } else if (lang == "es") {
    out = wd + " " + day + " de " + month + " de " + year + ", " + hhmm;
  } else {
    out = wd + " " + day + " " + month + " " + year + " at " + hhmm;
  }
  return out + " (" + zone.name() + ")";
}

BookingMailText ComposeBookingMail(MailKind kind, const BookingMailFacts& f) {
  std::string lang = Lang(f.language);
  std::string when = f.zone != nullptr ? FormatWhen(lang, f.start, *f.zone) : "";
  struct Line {
    const char* fr;
    const char* en;
    const char* es;
  };
  auto pick = [&lang](const Line& l) {
    return std::string(lang == "fr" ? l.fr : lang == "es" ? l.es : l.en);
  };
  static constexpr Line kSubject[] = {
      {"Rendez-vous confirmé : ", "Booking confirmed: ", "Cita confirmada: "},
      {"Demande de rendez-vous reçue : ", "Booking request received: ",
       "Solicitud de cita recibida: "},
      {"Rendez-vous déplacé : ", "Booking rescheduled: ", "Cita reprogramada: "},
      {"Rendez-vous annulé : ", "Booking cancelled: ", "Cita cancelada: "},
      {"Nouveau rendez-vous : ", "New booking: ", "Nueva cita: "},
      {"Rendez-vous annulé : ", "Booking cancelled: ", "Cita cancelada: "},
      {"Invitation : ", "Invitation: ", "Invitación: "},
      {"Invitation modifiée : ", "Updated invitation: ", "Invitación actualizada: "},
      {"Événement annulé : ", "Event cancelled: ", "Evento cancelado: "},
  };
  static constexpr Line kIntro[] = {
      {"Votre rendez-vous est confirmé.", "Your booking is confirmed.", "Su cita está confirmada."},
      {"Votre demande est reçue ; vous recevrez un message quand elle sera confirmée.",
       "Your request is received; you will get a message once it is confirmed.",
       "Hemos recibido su solicitud; recibirá un mensaje cuando se confirme."},
      {"Votre rendez-vous a été déplacé.", "Your booking was moved.", "Su cita ha sido movida."},
      {"Ce rendez-vous est annulé.", "This booking is cancelled.", "Esta cita está cancelada."},
      {"Un nouveau rendez-vous a été pris.", "A new booking was made.",
       "Se ha reservado una nueva cita."},
      {"Un rendez-vous a été annulé.", "A booking was cancelled.", "Se ha cancelado una cita."},
      {"Vous êtes invité·e par ", "You are invited by ", "Le invita "},
      {"Cet événement a changé ; invitation de ", "This event changed; invitation from ",
       "Este evento ha cambiado; invitación de "},
      {"Cet événement est annulé par ", "This event was cancelled by ",
       "Este evento ha sido cancelado por "},
  };
  static constexpr Line kWhen = {"Quand : ", "When: ", "Cuándo: "};
  static constexpr Line kWhere = {"Où : ", "Where: ", "Dónde: "};
  static constexpr Line kWho = {"Avec : ", "With: ", "Con: "};
  static constexpr Line kNotes = {"Notes : ", "Notes: ", "Notas: "};
  static constexpr Line kManage = {
      "Annuler ou déplacer : ", "Cancel or reschedule: ", "Cancelar o reprogramar: "};
  int k = static_cast<int>(kind);
  BookingMailText out;
  out.subject = pick(kSubject[k]) + f.title;
  std::string& b = out.body;
  bool invitation = kind == MailKind::kInvitation || kind == MailKind::kInvitationUpdated ||
                    kind == MailKind::kInvitationCancelled;
  b = pick(kIntro[k]) + (invitation ? f.visitor_name + "." : "") + "\n\n" + f.title + "\n" +
      pick(kWhen) + when + "\n";
  if (!f.where.empty()) {
    b += pick(kWhere) + f.where + "\n";
  }
  if (kind == MailKind::kOwnerNew || kind == MailKind::kOwnerCancelled) {
    b += pick(kWho) + f.visitor_name + "\n";
    if (!f.notes.empty()) {
      b += pick(kNotes) + f.notes + "\n";
    }
  }
  if (invitation && !f.notes.empty()) {
    b += "\n" + f.notes + "\n";
  }
  if (!f.manage_url.empty() && kind != MailKind::kCancelled) {
    b += "\n" + pick(kManage) + f.manage_url + "\n";
  }
  b += "\n-- \nRuche\n";
  return out;
}

}  // namespace ruche::cal
