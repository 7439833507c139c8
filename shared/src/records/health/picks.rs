//! The built-in short lists of common names and their codes.

use super::{Code, CodeSystem, Coded, HealthSection};

/// A common name with its code, offered as the person types.
pub type Pick = (&'static str, CodeSystem, &'static str);

/// The short built-in list of common names and codes for a section (checked
/// against published value sets: US Core's allergy substances and CVX
/// vaccines, VSAC condition and medication sets). Nothing asks a
/// terminology service; a name not in the list is kept without a code.
pub fn picks(section: HealthSection) -> &'static [Pick] {
    use CodeSystem::{Cvx, Rxnorm, Snomed};
    match section {
        HealthSection::Allergies => &[
            ("Penicillin", Snomed, "764146007"),
            ("Peanut", Snomed, "762952008"),
            ("Latex", Snomed, "111088007"),
            ("Shellfish", Snomed, "735029006"),
            ("Bee venom", Snomed, "288328004"),
            ("Cat dander", Snomed, "260152009"),
            ("Eggs", Snomed, "102263004"),
            ("Milk", Snomed, "70813002"),
            ("Aspirin", Snomed, "387458008"),
            ("Sulfonamide", Snomed, "387406002"),
            ("Pollen", Snomed, "256259004"),
        ],
        HealthSection::Medications => &[
            ("Lisinopril", Rxnorm, "29046"),
            ("Metformin", Rxnorm, "6809"),
            ("Atorvastatin", Rxnorm, "83367"),
            ("Levothyroxine", Rxnorm, "10582"),
            ("Amlodipine", Rxnorm, "17767"),
            ("Omeprazole", Rxnorm, "7646"),
            ("Albuterol (salbutamol)", Rxnorm, "435"),
            ("Ibuprofen", Rxnorm, "5640"),
            ("Aspirin", Rxnorm, "1191"),
        ],
        HealthSection::Conditions => &[
            ("Hypertension", Snomed, "38341003"),
            ("Type 2 diabetes mellitus", Snomed, "44054006"),
            ("Asthma", Snomed, "195967001"),
            ("Hyperlipidemia", Snomed, "55822004"),
            ("Hypothyroidism", Snomed, "40930008"),
            ("Depression", Snomed, "35489007"),
            ("Migraine", Snomed, "37796009"),
            ("Osteoarthritis", Snomed, "396275006"),
            ("Anxiety disorder", Snomed, "197480006"),
        ],
        HealthSection::Immunizations => &[
            ("Influenza, seasonal, injectable", Cvx, "141"),
            ("Influenza, quadrivalent, preservative free", Cvx, "150"),
            ("Tdap (tetanus, diphtheria, pertussis)", Cvx, "115"),
            ("Hepatitis B, adult", Cvx, "43"),
            ("MMR (measles, mumps, rubella)", Cvx, "03"),
            ("Pneumococcal polysaccharide (PPSV23)", Cvx, "33"),
            ("Pneumococcal conjugate (PCV20)", Cvx, "216"),
            ("HPV, 9-valent", Cvx, "165"),
            ("Zoster, recombinant (shingles)", Cvx, "187"),
            ("COVID-19 vaccine, unspecified", Cvx, "213"),
        ],
    }
}

/// The typed name with the code of the built-in pick it names exactly
/// (ignoring case and outer spaces), else without a code.
pub fn coded_from_text(section: HealthSection, text: &str) -> Coded {
    let text = text.trim();
    let code = picks(section)
        .iter()
        .find(|(name, _, _)| name.eq_ignore_ascii_case(text))
        .map(|(_, system, code)| Code {
            system: *system,
            code: (*code).to_owned(),
        });
    Coded {
        text: text.to_owned(),
        code,
    }
}
